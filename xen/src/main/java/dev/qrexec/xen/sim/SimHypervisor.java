package dev.qrexec.xen.sim;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A hypervisor whose qubes are plain objects: configurable latencies, host memory accounting,
 * memory that moves toward its target at a set rate, and injected faults ({@link #faults()}).
 * The layers above run their tests on it; it is also the reference the contract suite is checked
 * against. Build with {@link #builder()}.
 *
 * <p>Threads: all state is owned by the {@link SimScheduler}'s single thread of control. Public
 * methods hand their work to it and return a future; futures complete, and listeners are called,
 * on that thread, in order. Reads ({@link #state}, {@link #memory}, {@link #hostMemory},
 * {@link #list}) use snapshots published by that thread and never wait for it. Do not block in a
 * listener or in a non-async future callback (waiting there for another sim future would wait
 * forever): use the {@code ...Async} variants with your own executor for such work.
 *
 * <p>Semantics that the real backends share (the contract suite checks them): operations on one
 * qube run one after the other, each checked against the state the previous one left; kill and
 * crash interrupt whatever runs. Memory: a starting qube takes its initial memory from the host
 * (or the start fails with InsufficientMemory); a running qube moves toward its target at the
 * balloon rate, growing only into free host memory; a paused qube's memory does not move; a
 * halted qube holds none.
 *
 * <p>In an exact test:
 * <pre>{@code
 * ManualScheduler clock = new ManualScheduler();
 * SimHypervisor sim = SimHypervisor.builder().scheduler(clock)
 *         .bootLatency(Duration.ofSeconds(2)).hostMemoryMiB(4000).build();
 * sim.define(QubeSpec.builder("disp1234", 12).memoryMiB(400).maxMemoryMiB(4000).build()); // done at once
 * CompletableFuture<Void> start = sim.start("disp1234");     // STARTING, 400 MiB taken
 * clock.advance(Duration.ofSeconds(2));                       // start completes here; STARTED delivered
 * sim.faults().balloonRate("disp1234", 20L << 20);            // a slow balloon: 20 MiB/s
 * sim.setMemoryTarget("disp1234", 200L << 20);
 * clock.advance(Duration.ofSeconds(3));                       // memory("disp1234").currentBytes() is 340 MiB
 * }</pre>
 */
public final class SimHypervisor implements Hypervisor {

    private static final System.Logger LOG = System.getLogger(SimHypervisor.class.getName());

    private final String instanceName;
    private final SimScheduler scheduler;
    private final boolean ownsScheduler;
    private final Duration bootLatency;
    private final Duration pauseLatency;
    private final Duration unpauseLatency;
    private final Duration shutdownLatency;
    private final Duration killLatency;
    private final int maxQueuedOperations;
    private final SimFaults faults;
    private final SimMemory memoryAccount;
    private final ConcurrentHashMap<String, SimQube> qubes = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Consumer<LifecycleEvent>> listeners = new CopyOnWriteArrayList<>();

    // Written by the sim thread only.
    private volatile boolean closed;
    private volatile long startsSoFar;

    SimHypervisor(SimHypervisorBuilder b) {
        this.instanceName = b.instanceName == null ? "sim" : b.instanceName;
        this.ownsScheduler = b.scheduler == null;
        this.scheduler = ownsScheduler ? new RealTimeScheduler("qrexec-sim-" + instanceName) : b.scheduler;
        this.bootLatency = orZero(b.bootLatency);
        this.pauseLatency = orZero(b.pauseLatency);
        this.unpauseLatency = orZero(b.unpauseLatency);
        this.shutdownLatency = orZero(b.shutdownLatency);
        this.killLatency = orZero(b.killLatency);
        this.maxQueuedOperations = b.maxQueuedOperations == null ? 16 : b.maxQueuedOperations;
        this.faults = new SimFaults(() -> startsSoFar);
        this.memoryAccount = new SimMemory(b.hostBytes(),
                b.balloonBytesPerSecond == null ? 512 * SimQube.MIB : b.balloonBytesPerSecond,
                b.memoryStep == null ? Duration.ofMillis(100) : b.memoryStep,
                scheduler, faults, qubes::values);
    }

    public static SimHypervisorBuilder builder() {
        return new SimHypervisorBuilder();
    }

    /** Faults and quirks to inject; see {@link SimFaults}. */
    public SimFaults faults() {
        return faults;
    }

    /** The scheduler this backend runs on (a {@link ManualScheduler} in exact tests). */
    public SimScheduler scheduler() {
        return scheduler;
    }

    public String instanceName() {
        return instanceName;
    }

    @Override
    public String backendName() {
        return "sim";
    }

    @Override
    public CompletableFuture<Void> define(QubeSpec spec) {
        Objects.requireNonNull(spec, "spec");
        CompletableFuture<Void> future = new CompletableFuture<>();
        onSimThread(future, () -> {
            if (qubes.containsKey(spec.name())) {
                throw new HypervisorException.AlreadyDefined("qube '" + spec.name() + "' is already defined");
            }
            for (SimQube other : qubes.values()) {
                if (other.spec.domainId() == spec.domainId()) {
                    throw new HypervisorException.AlreadyDefined("domain id " + spec.domainId()
                            + " of '" + spec.name() + "' is already used by qube '" + other.name() + "'");
                }
            }
            qubes.put(spec.name(), new SimQube(spec));
            future.complete(null);
        });
        return future;
    }

    @Override
    public QubeSpec spec(String name) {
        return require(name).spec;
    }

    @Override
    public CompletableFuture<Void> start(String name) {
        return serialised(name, "start", (qube, op) -> {
            if (qube.state() != QubeState.HALTED) {
                throw new HypervisorException.InvalidState(name, "start", qube.state());
            }
            long startNumber = ++startsSoFar;
            memoryAccount.reserveInitial(qube);
            boolean fail = faults.consumeStartFailure(startNumber, name);
            boolean hang = faults.consumeHang(name);
            qube.state(QubeState.STARTING);
            if (hang) {
                LOG.log(Level.DEBUG, "sim: start of {0} hangs (injected)", name);
                return;
            }
            op.timer = scheduler.schedule(faults.bootLatency(name).orElse(bootLatency), () -> {
                if (fail) {
                    memoryAccount.release(qube);
                    qube.state(QubeState.HALTED);
                    finish(qube, op, new HypervisorException.OperationFailed(
                            "start of '" + name + "' failed: injected fault (start #" + startNumber + ")"));
                    return;
                }
                qube.state(QubeState.RUNNING);
                qube.announcedUp = true;
                emit(qube, LifecycleEvent.Kind.STARTED, "");
                faults.death(name).ifPresent(plan -> qube.deathTimer =
                        scheduler.schedule(plan.after(), () -> crashNow(qube, plan.reason())));
                finish(qube, op, null);
            });
        });
    }

    @Override
    public CompletableFuture<Void> pause(String name) {
        return serialised(name, "pause", (qube, op) -> {
            requireState(qube, "pause", QubeState.RUNNING);
            op.timer = scheduler.schedule(pauseLatency, () -> {
                qube.state(QubeState.PAUSED);
                emit(qube, LifecycleEvent.Kind.PAUSED, "");
                finish(qube, op, null);
            });
        });
    }

    @Override
    public CompletableFuture<Void> unpause(String name) {
        return serialised(name, "unpause", (qube, op) -> {
            requireState(qube, "unpause", QubeState.PAUSED);
            op.timer = scheduler.schedule(unpauseLatency, () -> {
                qube.state(QubeState.RUNNING);
                emit(qube, LifecycleEvent.Kind.UNPAUSED, "");
                finish(qube, op, null);
                memoryAccount.wake();
            });
        });
    }

    @Override
    public CompletableFuture<Void> shutdown(String name, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("shutdown timeout must not be negative, was " + timeout);
        }
        return serialised(name, "shut down", (qube, op) -> {
            requireState(qube, "shut down", QubeState.RUNNING);
            qube.state(QubeState.STOPPING);
            qube.stopKind = SimQube.StopKind.SHUTDOWN;
            qube.haltWaiters.add(op.future);
            if (faults.ignoresShutdown(name) || shutdownLatency.compareTo(timeout) > 0) {
                op.timer = scheduler.schedule(timeout, () -> {
                    LOG.log(Level.INFO, "sim: {0} did not shut down within {1}; killing it", name, timeout);
                    beginKill(qube, "killed: did not shut down within " + timeout);
                });
            } else {
                op.timer = scheduler.schedule(shutdownLatency, () -> halt(qube, "shutdown"));
            }
        });
    }

    @Override
    public CompletableFuture<Void> kill(String name) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        onSimThread(future, () -> {
            SimQube qube = require(name);
            switch (qube.state()) {
                case HALTED -> throw new HypervisorException.InvalidState(name, "kill", QubeState.HALTED);
                case CRASHED -> qube.haltWaiters.add(future);
                case STOPPING -> {
                    qube.haltWaiters.add(future);
                    if (qube.stopKind == SimQube.StopKind.SHUTDOWN) {
                        beginKill(qube, "killed");
                    }
                }
                default -> {
                    qube.haltWaiters.add(future);
                    beginKill(qube, "killed");
                }
            }
        });
        return future;
    }

    /**
     * Makes {@code name} die now, as a crash or an OOM kill would: a {@code DIED} event with
     * {@code reason}, state CRASHED, then HALTED after the kill latency. An operation in flight
     * fails. Completes once the qube has died; fails with InvalidState if it was not running.
     */
    public CompletableFuture<Void> crash(String name, String reason) {
        Objects.requireNonNull(reason, "reason");
        CompletableFuture<Void> future = new CompletableFuture<>();
        onSimThread(future, () -> {
            SimQube qube = require(name);
            if (qube.state() == QubeState.HALTED || qube.state() == QubeState.CRASHED) {
                throw new HypervisorException.InvalidState(name, "crash", qube.state());
            }
            crashNow(qube, reason);
            future.complete(null);
        });
        return future;
    }

    @Override
    public CompletableFuture<Void> undefine(String name) {
        return serialised(name, "undefine", (qube, op) -> {
            requireState(qube, "undefine", QubeState.HALTED);
            qubes.remove(name);
            Runnable queued;
            while ((queued = qube.waiting.poll()) != null) {
                queued.run(); // each sees the qube gone and fails with NoSuchQube
            }
            finish(qube, op, null);
        });
    }

    @Override
    public QubeState state(String name) {
        return require(name).state();
    }

    @Override
    public List<String> list() {
        return qubes.keySet().stream().sorted().toList();
    }

    @Override
    public CompletableFuture<Void> setMemoryTarget(String name, long targetBytes) {
        SimQube known = qubes.get(Objects.requireNonNull(name, "name"));
        if (targetBytes <= 0 || (known != null && targetBytes > known.maxBytes())) {
            throw new IllegalArgumentException("memory target of '" + name + "' must be in 1.."
                    + (known == null ? "max" : known.maxBytes()) + " bytes (its maximum), was " + targetBytes);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        onSimThread(future, () -> {
            SimQube qube = require(name);
            if (qube.state() == QubeState.HALTED || qube.state() == QubeState.CRASHED) {
                throw new HypervisorException.InvalidState(name, "set the memory target of", qube.state());
            }
            memoryAccount.target(qube, targetBytes);
            future.complete(null);
        });
        return future;
    }

    @Override
    public MemoryUsage memory(String name) {
        return require(name).memory();
    }

    @Override
    public HostMemory hostMemory() {
        return memoryAccount.host();
    }

    @Override
    public AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Fails what is in flight with "closed", then stops the scheduler if this backend made it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            scheduler.execute(() -> {
                HypervisorException error = new HypervisorException.BackendUnavailable(
                        "sim backend '" + instanceName + "' was closed");
                for (SimQube qube : qubes.values()) {
                    if (qube.current != null) {
                        qube.current.cancelTimer();
                        qube.current.future.completeExceptionally(error);
                    }
                    qube.haltWaiters.forEach(f -> f.completeExceptionally(error));
                    qube.haltWaiters.clear();
                    qube.waiting.clear();
                    qube.cancelDeath();
                }
                memoryAccount.stop();
            });
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, "sim: scheduler already stopped at close", e);
        }
        if (ownsScheduler) {
            scheduler.close();
        }
    }

    @Override
    public String toString() {
        HostMemory host = memoryAccount.host();
        return "SimHypervisor[" + instanceName + ", " + qubes.size() + " qubes, "
                + host.freeBytes() / SimQube.MIB + " of " + host.totalBytes() / SimQube.MIB + " MiB free]";
    }

    // ---------------------------------------------------------------- sim thread only below

    /** Runs {@code action} on the sim thread; anything it throws fails {@code future}. */
    private void onSimThread(CompletableFuture<Void> future, Runnable action) {
        if (closed) {
            future.completeExceptionally(new HypervisorException.BackendUnavailable(
                    "sim backend '" + instanceName + "' is closed"));
            return;
        }
        try {
            scheduler.execute(() -> {
                if (closed) { // submitted while close() ran: its clean-up has already passed
                    future.completeExceptionally(new HypervisorException.BackendUnavailable(
                            "sim backend '" + instanceName + "' was closed"));
                    return;
                }
                try {
                    action.run();
                } catch (RuntimeException e) {
                    future.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException | IllegalStateException e) {
            future.completeExceptionally(new HypervisorException.BackendUnavailable(
                    "sim backend '" + instanceName + "' is closed", e));
        }
    }

    /** Runs {@code action} once the qube's earlier operations are done. */
    private CompletableFuture<Void> serialised(String name, String what,
                                               BiConsumer<SimQube, SimQube.Operation> action) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        onSimThread(future, () -> {
            SimQube qube = require(name);
            SimQube.Operation op = new SimQube.Operation(what, future);
            Runnable run = () -> {
                if (qubes.get(name) != qube) {
                    future.completeExceptionally(new HypervisorException.NoSuchQube(name));
                    return;
                }
                qube.current = op;
                try {
                    action.accept(qube, op);
                } catch (RuntimeException e) {
                    finish(qube, op, e);
                }
            };
            if (!qube.busy()) {
                run.run();
            } else if (qube.waiting.size() >= maxQueuedOperations) {
                throw new HypervisorException.OperationFailed("cannot " + what + " '" + name + "': "
                        + qube.waiting.size() + " operations already wait behind '" + qube.current.name
                        + "' (maxQueuedOperations " + maxQueuedOperations + ")");
            } else {
                qube.waiting.add(run);
            }
        });
        return future;
    }

    /** Ends the running operation (unless something replaced it) and starts the next one. */
    private void finish(SimQube qube, SimQube.Operation op, RuntimeException error) {
        if (qube.current == op) {
            qube.current = null;
        }
        op.cancelTimer();
        if (error == null) {
            op.future.complete(null);
        } else {
            qube.haltWaiters.remove(op.future);
            op.future.completeExceptionally(error);
        }
        runNext(qube);
    }

    private void runNext(SimQube qube) {
        Runnable next;
        while (!qube.busy() && (next = qube.waiting.poll()) != null) {
            next.run();
        }
    }

    /** Interrupts what runs (its future fails, unless it waits for the halt) and kills. */
    private void beginKill(SimQube qube, String reason) {
        interruptCurrent(qube, "the qube was killed");
        qube.state(QubeState.STOPPING);
        qube.stopKind = SimQube.StopKind.KILL;
        SimQube.Operation kill = new SimQube.Operation("kill", new CompletableFuture<>());
        qube.current = kill;
        kill.timer = scheduler.schedule(killLatency, () -> halt(qube, reason));
    }

    private void crashNow(SimQube qube, String reason) {
        qube.cancelDeath();
        interruptCurrent(qube, "the qube died: " + reason);
        qube.state(QubeState.CRASHED);
        if (qube.announcedUp) { // dying while starting is reported by the start future alone
            qube.announcedUp = false;
            emit(qube, LifecycleEvent.Kind.DIED, reason);
        }
        SimQube.Operation cleanup = new SimQube.Operation("clean up", new CompletableFuture<>());
        qube.current = cleanup;
        cleanup.timer = scheduler.schedule(killLatency, () -> halt(qube, null));
    }

    private void interruptCurrent(SimQube qube, String why) {
        SimQube.Operation running = qube.current;
        if (running == null) {
            return;
        }
        running.cancelTimer();
        qube.current = null;
        if (!qube.haltWaiters.contains(running.future)) {
            running.future.completeExceptionally(new HypervisorException.OperationFailed(
                    running.name + " of '" + qube.name() + "' did not complete: " + why));
        }
    }

    /** The qube is halted: memory back to the host, waiters released; {@code reason} null = no event. */
    private void halt(SimQube qube, String reason) {
        qube.cancelDeath();
        if (qube.current != null) {
            qube.current.cancelTimer();
            qube.current = null;
        }
        memoryAccount.release(qube);
        qube.state(QubeState.HALTED);
        qube.stopKind = SimQube.StopKind.NONE;
        if (reason != null && qube.announcedUp) {
            emit(qube, LifecycleEvent.Kind.HALTED, reason);
        }
        qube.announcedUp = false;
        List<CompletableFuture<Void>> waiters = List.copyOf(qube.haltWaiters);
        qube.haltWaiters.clear();
        waiters.forEach(f -> f.complete(null));
        runNext(qube);
    }

    private void emit(SimQube qube, LifecycleEvent.Kind kind, String reason) {
        LifecycleEvent event = new LifecycleEvent(qube.name(), kind, reason, scheduler.now());
        for (Consumer<LifecycleEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "sim: listener failed on " + event, e);
            }
        }
    }

    private SimQube require(String name) {
        Objects.requireNonNull(name, "name");
        SimQube qube = qubes.get(name);
        if (qube == null) {
            throw new HypervisorException.NoSuchQube(name);
        }
        return qube;
    }

    private static void requireState(SimQube qube, String operation, QubeState expected) {
        if (qube.state() != expected) {
            throw new HypervisorException.InvalidState(qube.name(), operation, qube.state());
        }
    }

    private static Duration orZero(Duration duration) {
        return duration == null ? Duration.ZERO : duration;
    }
}
