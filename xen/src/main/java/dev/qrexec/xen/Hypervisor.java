package dev.qrexec.xen;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The hypervisor SPI: one backend instance manages the qubes of one daemon.
 *
 * <p>Threads: every life-cycle operation returns at once with a future; the work runs on the
 * backend's own threads, never on the caller's. Futures complete exceptionally with a
 * {@link HypervisorException}. {@link #state}, {@link #memory}, {@link #hostMemory} and
 * {@link #list} are cheap reads and never block on I/O of a qube. Events are delivered to
 * listeners on one backend event thread, in the order they happened for a given qube; a
 * listener must not block (hand work off to your own executor).
 *
 * <p>Ownership: a backend only ever touches qubes it defined, marked with its instance name, so
 * two daemons (or two test runs) on one host do not see each other's qubes.
 */
public interface Hypervisor extends AutoCloseable {

    /** Short backend name: {@code sim}, {@code sandbox}, {@code libvirt}. */
    String backendName();

    /** Defines a halted qube from its spec. Fails with {@link HypervisorException.AlreadyDefined}. */
    CompletableFuture<Void> define(QubeSpec spec);

    /** The spec the qube was defined with. */
    QubeSpec spec(String name);

    /**
     * Boots a halted qube; completes when its init runs (the qube is {@link QubeState#RUNNING}).
     * Fails with {@link HypervisorException.InsufficientMemory} when the host cannot hold it.
     */
    CompletableFuture<Void> start(String name);

    /** Freezes a running qube; completes once it is {@link QubeState#PAUSED}. */
    CompletableFuture<Void> pause(String name);

    /** Thaws a paused qube; completes once it is {@link QubeState#RUNNING}. */
    CompletableFuture<Void> unpause(String name);

    /**
     * Asks the qube to stop; kills it if it has not halted after {@code timeout}. Completes once it
     * is {@link QubeState#HALTED} and, for a {@code discardOnStop} qube, its storage is gone.
     */
    CompletableFuture<Void> shutdown(String name, Duration timeout);

    /** Stops the qube at once (a paused qube too). Completes once it is halted and cleaned up. */
    CompletableFuture<Void> kill(String name);

    /** Forgets a halted qube and deletes what the backend created for it. */
    CompletableFuture<Void> undefine(String name);

    /** Current state; {@link HypervisorException.NoSuchQube} if not defined. */
    QubeState state(String name);

    /** Names of the qubes this backend instance has defined. */
    List<String> list();

    /**
     * Sets the qube's memory target (balloon / cgroup limit); completes when applied, not reached.
     *
     * @throws IllegalArgumentException if {@code targetBytes} is not positive or above the qube's maximum
     */
    CompletableFuture<Void> setMemoryTarget(String name, long targetBytes);

    /** Current memory of a qube. */
    MemoryUsage memory(String name);

    /** Host memory as this backend accounts it. */
    HostMemory hostMemory();

    /** Registers a listener for life-cycle events of every qube; close the result to unregister. */
    AutoCloseable subscribe(Consumer<LifecycleEvent> listener);

    /** Stops the backend's threads. Does not stop qubes: a daemon restart finds them again. */
    @Override
    void close();
}
