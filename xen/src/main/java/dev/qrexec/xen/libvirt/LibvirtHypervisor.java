package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtError;
import dev.qrexec.xen.libvirt.binding.LibvirtLibrary;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The {@code libvirt} backend: qubes are libvirt domains, driven through {@code libvirt.so.0}.
 *
 * <p>Threads (see {@link LibvirtThreads}): every blocking libvirt call runs on the
 * {@code qrexec-libvirt-op-<instance>-N} pool, each qube's operations one after another through its
 * {@link ManagedQube} serial queue; timers (shutdown deadline, stop polling, memory refresh) run on
 * {@code qrexec-libvirt-timer-<instance>} and only enqueue work; libvirt's callbacks run on the
 * process-wide {@code qrexec-libvirt-event-loop}; listeners are called on
 * {@code qrexec-libvirt-listeners-<instance>}. Reads ({@link #state}, {@link #memory},
 * {@link #hostMemory}, {@link #list}) return cached values and never call libvirt.
 *
 * <p>Events: a transition is published when the operation that caused it succeeds; libvirt's own
 * life-cycle events only make the qube re-read its real state ({@link DomainEvents}), which is how
 * changes made outside the backend become events (a crash or {@code virsh destroy}: DIED).
 *
 * <p>Ownership: a domain is this backend's only if its {@code <metadata>} carries our namespace
 * and our instance name; domains are addressed by UUID, never by name alone.
 */
public final class LibvirtHypervisor implements Hypervisor {

    private static final System.Logger LOG = System.getLogger(LibvirtHypervisor.class.getName());
    private static final long MIB = 1024L * 1024;

    private final LibvirtConfig config;
    private final LibvirtThreads threads;
    private final LibvirtConnection conn;
    private final QubeStorage storage;
    private final HostMemoryAccount hostMemory;
    private final QubeRegistry qubes = new QubeRegistry();
    private final QubeTransitions transitions;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Strongly referenced while registered: libvirt holds only the native stub (JNA GC pitfall). */
    private final DomainEvents lifecycleCallback;
    private final int callbackId;
    /** How a guest is asked to shut down; tests replace it to play a guest that ignores the request. */
    private volatile Consumer<DomainHandle> shutdownRequest = DomainHandle::shutdown;

    private LibvirtHypervisor(LibvirtConfig config, LibvirtThreads threads, LibvirtConnection conn,
                              HostMemoryAccount hostMemory) {
        this.config = config;
        this.threads = threads;
        this.conn = conn;
        this.storage = new QubeStorage(config.storageDir());
        this.hostMemory = hostMemory;
        this.transitions = new QubeTransitions(conn, storage, hostMemory, threads.dispatcher());
        this.lifecycleCallback = new DomainEvents(threads.library(), conn, qubes, transitions, closed::get);
        recover();
        this.callbackId = conn.registerLifecycle(lifecycleCallback);
    }

    /**
     * Connects, finds the qubes this instance defined before (a daemon restart), and starts
     * watching events. Blocks until done; the libvirt calls run on the backend's own threads.
     *
     * @throws HypervisorException.BackendUnavailable if libvirt is not installed or cannot be reached
     */
    public static LibvirtHypervisor open(LibvirtConfig config) {
        Objects.requireNonNull(config, "config");
        LibvirtThreads threads = LibvirtThreads.start(config);
        try {
            return threads.callBlocking("connect to " + config.uri(), () -> {
                LibvirtConnection conn;
                try {
                    conn = LibvirtConnection.open(threads.library(), config.uri());
                } catch (LibvirtError e) {
                    throw ErrorMapping.forOpen(e, config.uri());
                }
                try {
                    HostMemoryAccount memory = HostMemoryAccount.create(config, conn);
                    LibvirtHypervisor h = new LibvirtHypervisor(config, threads, conn, memory);
                    long every = config.pollInterval().toMillis() * 5;
                    threads.timer().scheduleWithFixedDelay(h::refreshMemory, every, every, TimeUnit.MILLISECONDS);
                    return h;
                } catch (LibvirtError e) {
                    conn.close();
                    throw new HypervisorException.BackendUnavailable("libvirt at " + config.uri()
                            + " is not usable: " + e.getMessage(), e);
                } catch (RuntimeException e) {
                    conn.close();
                    throw e;
                }
            });
        } catch (RuntimeException e) {
            threads.close();
            throw e;
        }
    }

    /** Re-adopts the domains carrying our instance name; others are left alone. Runs on an op thread. */
    private void recover() {
        for (DomainHandle d : conn.listAll()) {
            try (d) {
                String xml = d.metadata(QubeMetadata.NAMESPACE);
                if (xml == null) {
                    continue;
                }
                QubeMetadata meta = QubeMetadata.parse(d.name(), xml);
                if (!meta.instance().equals(config.instanceName())) {
                    continue;
                }
                QubeState state = LibvirtStates.toQubeState(d.state()[0]);
                ManagedQube q = new ManagedQube(meta.spec(), d.uuid(), state, threads.ops());
                if (state != QubeState.HALTED) {
                    q.currentBytes(d.info().memory.longValue() * 1024);
                }
                qubes.add(q);
                LOG.log(INFO, "libvirt backend {0}: found qube {1} ({2}) again", config.instanceName(),
                        q.name(), state);
            } catch (IllegalArgumentException e) {
                LOG.log(WARNING, "libvirt domain {0} has damaged qrexec metadata, left alone: {1}",
                        d.name(), e.getMessage());
            } catch (LibvirtError e) {
                LOG.log(WARNING, "libvirt domain {0} could not be inspected, left alone: {1}",
                        d.name(), e.getMessage());
            }
        }
    }

    @Override
    public String backendName() {
        return "libvirt";
    }

    /** The configuration this backend runs with. */
    public LibvirtConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ definition

    @Override
    public CompletableFuture<Void> define(QubeSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (closed.get()) {
            return CompletableFuture.failedFuture(closedError("define", spec.name()));
        }
        try {
            qubes.reserve(spec);
        } catch (HypervisorException.AlreadyDefined e) {
            return CompletableFuture.failedFuture(e);
        }
        return threads.submit("define", spec.name(), () -> {
            try {
                defineNow(spec);
                return null;
            } catch (RuntimeException e) {
                qubes.release(spec);
                throw e;
            }
        });
    }

    private void defineNow(QubeSpec spec) {
        try {
            try (DomainHandle existing = conn.lookupByName(spec.name())) {
                if (existing != null) {
                    throw new HypervisorException.AlreadyDefined("a libvirt domain named '" + spec.name()
                            + "' already exists at " + config.uri() + " and is not a qube of this backend");
                }
            }
            UUID uuid = UUID.randomUUID();
            String xml;
            try {
                xml = DomainXml.of(spec, config.instanceName(), uuid, config.flavor(), storage.volatileImage(spec),
                        config.boot());
            } catch (IllegalArgumentException e) {
                throw new HypervisorException.OperationFailed("cannot define qube '" + spec.name() + "': "
                        + e.getMessage(), e);
            }
            try (DomainHandle d = conn.define(spec.name(), xml)) {
                qubes.add(new ManagedQube(spec, d.uuid(), QubeState.HALTED, threads.ops()));
            }
            LOG.log(DEBUG, "defined qube {0} as libvirt domain {1}", spec.name(), uuid);
        } catch (LibvirtError e) {
            throw ErrorMapping.forOperation(e, spec.name(), "define", QubeState.HALTED);
        }
    }

    @Override
    public QubeSpec spec(String name) {
        return qubes.require(name).spec;
    }

    @Override
    public CompletableFuture<Void> undefine(String name) {
        return onQube(name, "undefine", (q, d) -> {
            requireState(q, "undefine", QubeState.HALTED);
            d.undefine(0);
            qubes.remove(q);
            storage.forget(q.spec);
            return null;
        });
    }

    // ------------------------------------------------------------------ life-cycle

    @Override
    public CompletableFuture<Void> start(String name) {
        return onQube(name, "start", (q, d) -> {
            requireState(q, "start", QubeState.HALTED);
            q.targetBytes(q.spec.memoryMiB() * MIB);
            hostMemory.reserve(q.spec, this::runningBytes, () -> q.state(QubeState.STARTING));
            try {
                storage.prepare(q.spec);
                d.create();
            } catch (RuntimeException e) {
                q.state(QubeState.HALTED);
                transitions.releaseStorageQuietly(q);
                throw e;
            }
            q.currentBytes(q.spec.memoryMiB() * MIB);  // the periodic refresh reads the real balloon
            transitions.transition(q, QubeState.RUNNING, LifecycleEvent.Kind.STARTED, "");
            hostMemory.refresh();
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> pause(String name) {
        return onQube(name, "pause", (q, d) -> {
            requireState(q, "pause", QubeState.RUNNING);
            d.suspend();
            transitions.transition(q, QubeState.PAUSED, LifecycleEvent.Kind.PAUSED, "");
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> unpause(String name) {
        return onQube(name, "unpause", (q, d) -> {
            requireState(q, "unpause", QubeState.PAUSED);
            d.resume();
            transitions.transition(q, QubeState.RUNNING, LifecycleEvent.Kind.UNPAUSED, "");
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> shutdown(String name, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("shutdown timeout must not be negative, was " + timeout);
        }
        return onQube(name, "shut down", (q, d) -> {
            if (q.state() == QubeState.STOPPING && q.halted != null) {
                return q.halted;  // already under way: wait for the same end
            }
            requireState(q, "shut down", QubeState.RUNNING);
            shutdownRequest.accept(d);
            q.state(QubeState.STOPPING);
            q.halted = new CompletableFuture<>();
            CompletableFuture<Void> halted = q.halted;
            long poll = config.pollInterval().toMillis();
            // A failed poll is retried by the next one; a failed kill at the deadline fails the shutdown.
            q.pollTimer = threads.timer().scheduleWithFixedDelay(
                    () -> q.submit("watch the shutdown of", () -> transitions.watchShutdown(q)),
                    poll, poll, TimeUnit.MILLISECONDS);
            q.killTimer = threads.timer().schedule(() -> q.submit("kill after the shutdown timeout", () -> {
                if (q.halted == halted) {
                    LOG.log(INFO, "qube {0} did not shut down within {1}: killing it", name, timeout);
                    transitions.killNow(q, "killed: did not shut down within " + timeout);
                }
                return null;
            }).exceptionally(t -> {
                HypervisorException e = t instanceof LibvirtError le
                        ? ErrorMapping.forOperation(le, name, "kill", q.state())
                        : ErrorMapping.unwrap(t, name, "kill");
                LOG.log(WARNING, "qube " + name + ": kill after the shutdown timeout failed", e);
                halted.completeExceptionally(e);
                return null;
            }), timeout.toMillis(), TimeUnit.MILLISECONDS);
            transitions.watchShutdown(q);  // the test driver (and a quick guest) is already off
            return halted;
        }).thenCompose(halted -> halted);
    }

    @Override
    public CompletableFuture<Void> kill(String name) {
        return onQube(name, "kill", (q, d) -> {
            if (q.state() == QubeState.HALTED) {
                throw new HypervisorException.InvalidState(name, "kill", QubeState.HALTED);
            }
            transitions.killNow(q, "killed");
            return null;
        });
    }

    // ------------------------------------------------------------------ reads

    @Override
    public QubeState state(String name) {
        return qubes.require(name).state();
    }

    @Override
    public List<String> list() {
        return qubes.names();
    }

    @Override
    public MemoryUsage memory(String name) {
        ManagedQube q = qubes.require(name);
        return new MemoryUsage(q.currentBytes(), q.targetBytes(), q.spec.maxMemoryMiB() * MIB);
    }

    @Override
    public HostMemory hostMemory() {
        return hostMemory.current(runningBytes());
    }

    private long runningBytes() {
        long sum = 0;
        for (ManagedQube q : qubes.all()) {
            if (q.active()) {
                sum += Math.max(q.currentBytes(), q.targetBytes());
            }
        }
        return sum;
    }

    @Override
    public CompletableFuture<Void> setMemoryTarget(String name, long targetBytes) {
        ManagedQube known = qubes.require(name);
        long max = known.spec.maxMemoryMiB() * MIB;
        if (targetBytes < 1024 || targetBytes > max) {
            throw new IllegalArgumentException("memory target of '" + name + "' must be in 1024.." + max
                    + " bytes (its maximum), was " + targetBytes);
        }
        return onQube(name, "set the memory target of", (q, d) -> {
            if (q.state() != QubeState.RUNNING && q.state() != QubeState.PAUSED) {
                throw new HypervisorException.InvalidState(name, "set the memory target of", q.state());
            }
            d.setMemoryKiB(targetBytes / 1024, LibvirtLibrary.VIR_DOMAIN_AFFECT_LIVE);
            q.targetBytes(targetBytes);
            q.currentBytes(d.info().memory.longValue() * 1024);
            return null;
        });
    }

    /** On the memory timer, through each qube's queue: reads the balloon of running qubes. */
    void refreshMemory() {
        for (ManagedQube q : qubes.all()) {
            if (q.active()) {
                q.submit("refresh the memory of", () -> {
                    if (q.active()) {
                        try (DomainHandle d = conn.lookupByUuid(q.uuid)) {
                            if (d != null) {
                                q.currentBytes(d.info().memory.longValue() * 1024);
                            }
                        }
                    }
                    return null;
                });
            }
        }
        threads.submit("refresh host memory of", config.instanceName(), () -> {
            hostMemory.refresh();
            return null;
        });
    }

    /** For tests: replaces the shutdown request (e.g. with one a guest ignores, to reach the kill deadline). */
    void shutdownRequest(Consumer<DomainHandle> request) {
        this.shutdownRequest = Objects.requireNonNull(request, "request");
    }

    /** Domain handles not yet freed (0 whenever no operation runs): lets tests prove there is no leak. */
    int openDomainHandles() {
        return conn.openDomainHandles();
    }

    @Override
    public AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
        return threads.dispatcher().subscribe(Objects.requireNonNull(listener, "listener"));
    }

    // ------------------------------------------------------------------ plumbing

    /** An operation on a defined qube's live domain, in its serial order, with errors mapped. */
    private <T> CompletableFuture<T> onQube(String name, String operation, QubeOperation<T> op) {
        ManagedQube q = qubes.get(name);
        if (q == null) {
            return CompletableFuture.failedFuture(new HypervisorException.NoSuchQube(name));
        }
        if (closed.get()) {
            return CompletableFuture.failedFuture(closedError(operation, name));
        }
        return q.submit(operation, () -> {
            if (!qubes.current(q)) {
                throw new HypervisorException.NoSuchQube(name);  // undefined while this waited
            }
            try (DomainHandle d = conn.lookupByUuid(q.uuid)) {
                if (d == null) {
                    throw new HypervisorException.OperationFailed("cannot " + operation + " qube '" + name
                            + "': its libvirt domain " + q.uuid + " is gone (removed outside this backend)");
                }
                return op.apply(q, d);
            } catch (LibvirtError e) {
                throw ErrorMapping.forOperation(e, name, operation, q.state());
            } catch (java.io.UncheckedIOException e) {
                throw new HypervisorException.OperationFailed(e.getMessage(), e);
            }
        });
    }

    @FunctionalInterface
    private interface QubeOperation<T> {
        T apply(ManagedQube q, DomainHandle d);
    }

    private static void requireState(ManagedQube q, String operation, QubeState wanted) {
        if (q.state() != wanted) {
            throw new HypervisorException.InvalidState(q.name(), operation, q.state());
        }
    }

    private HypervisorException closedError(String operation, String name) {
        return new HypervisorException.OperationFailed("cannot " + operation + " qube '" + name
                + "': libvirt backend '" + config.instanceName() + "' is closed");
    }

    /**
     * Stops watching events, closes the connection and stops the backend's threads. Qubes keep
     * running (a new backend with the same instance name finds them again). Blocks until the
     * operations already running finish (at most 10 s); operations still waiting fail.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            // Only once no op thread can be inside libvirt is the connection freed under them.
            if (threads.drain(10_000)) {
                try {
                    conn.deregister(callbackId);
                } catch (LibvirtError e) {
                    LOG.log(WARNING, "could not deregister libvirt events: {0}", e.getMessage());
                }
                conn.close();
            } else {
                LOG.log(WARNING, "libvirt backend {0}: a libvirt call is stuck; its connection is left open",
                        config.instanceName());
            }
        } finally {
            threads.close();
        }
    }
}
