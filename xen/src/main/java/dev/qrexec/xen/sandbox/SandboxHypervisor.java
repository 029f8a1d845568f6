package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sandbox.cgroup.CgroupActions;
import dev.qrexec.xen.sandbox.cgroup.CgroupDriver;
import dev.qrexec.xen.sandbox.cgroup.CgroupLimits;
import dev.qrexec.xen.sandbox.cgroup.Cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@code sandbox} backend: each qube is a bubblewrap sandbox in its own cgroups, running as its
 * own unprivileged host uid. See {@link BwrapCommand} for the isolation, {@link InstanceSweeper} for
 * what happens at start-up, {@code docs/architecture/xen-sandbox.md} for the whole design.
 *
 * <p>Threads: operations on one qube run in order on its {@link SerialLane}, on a small worker pool
 * ({@code qrexec-sandbox-<instance>-worker-N}); only lane operations write a qube's state. Events go
 * out on one thread ({@code qrexec-sandbox-<instance>-events}). Reads ({@link #state}, {@link #list},
 * {@link #memory}, {@link #hostMemory}) take no lock and do at most one small cgroupfs read.
 */
public final class SandboxHypervisor implements Hypervisor {

    private static final System.Logger LOG = System.getLogger(SandboxHypervisor.class.getName());

    private final SandboxConfig config;
    private final CgroupDriver cgroupDriver;
    private final CgroupActions cgroups;
    private final QubeStateStore store;
    private final SandboxLauncher launcher;
    private final QubeJanitor janitor;
    private final EventDispatcher events;
    private final ThreadPoolExecutor workers;
    /** Cuts console logs that grew past the cap; one thread, a task every few seconds. */
    private final ConsoleCapper consoles;
    private final ConcurrentMap<String, SandboxQube> qubes = new ConcurrentHashMap<>();
    /** Guards name and domain id uniqueness at define. */
    private final Object admission = new Object();
    private final MemoryLedger ledger;
    private final StartProbe startProbe;
    private final InstanceLock instanceLock;
    private volatile boolean closed;

    /** Test hook: told when a start reaches each of its steps (a crash test stops the daemon there). */
    interface StartProbe {
        StartProbe NONE = (qube, step) -> { };

        void reached(String qube, String step);
    }

    private SandboxHypervisor(SandboxConfig config, Path bwrap, Path setpriv, CgroupDriver cgroupDriver,
                              long hostMemoryBytes, StartProbe startProbe) throws IOException {
        this.config = config;
        this.startProbe = startProbe;
        this.cgroupDriver = cgroupDriver;
        this.cgroups = new CgroupActions(cgroupDriver);
        this.store = new QubeStateStore(config.stateDir());
        this.launcher = new SandboxLauncher(setpriv, bwrap, cgroupDriver);
        this.janitor = new QubeJanitor(cgroups, store, config.killTimeout());
        this.ledger = new MemoryLedger(hostMemoryBytes, qubes.values());
        Files.createDirectories(store.root());
        // consoles and specs are the daemon's business: no qube uid (nor anyone else) reads them
        Files.setPosixFilePermissions(store.root(), PosixFilePermissions.fromString("rwx------"));
        this.instanceLock = InstanceLock.acquire(store.root(), config.instance());
        try {
            for (SandboxQube qube : new InstanceSweeper(store, cgroupDriver, janitor, this::hostUid).sweep()) {
                qubes.put(qube.name(), qube);
            }
        } catch (IOException | RuntimeException e) {
            instanceLock.close();
            throw e;
        }
        cgroupDriver.removeInstanceGroupIfEmpty();
        this.events = new EventDispatcher(config.instance());
        AtomicInteger counter = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(1024), r -> {
                    Thread t = new Thread(r, "qrexec-sandbox-" + config.instance() + "-worker-" + counter.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        for (SandboxQube qube : qubes.values()) {
            if (qube.running != null) {
                watch(qube, qube.running);
            }
        }
        this.consoles = new ConsoleCapper(config.instance(), config.consoleMaxBytes(),
                () -> qubes.values().stream().filter(q -> q.state != QubeState.HALTED).map(SandboxQube::name).toList(),
                store::consoleLog);
    }

    /**
     * Opens the backend: checks the host (bubblewrap, setpriv, cgroups), then sweeps or adopts what a
     * previous daemon of the same instance left.
     *
     * @throws HypervisorException.BackendUnavailable when this host cannot run sandboxes, saying why
     */
    public static SandboxHypervisor open(SandboxConfig config) {
        return open(config, StartProbe.NONE);
    }

    static SandboxHypervisor open(SandboxConfig config, StartProbe startProbe) {
        Path bwrap = config.bwrap().or(() -> HostTools.findExecutable("bwrap")).filter(Files::isExecutable)
                .orElseThrow(() -> new HypervisorException.BackendUnavailable(
                        "bubblewrap not found: apt-get install bubblewrap"));
        Path setpriv = config.setpriv().or(() -> HostTools.findExecutable("setpriv")).filter(Files::isExecutable)
                .orElseThrow(() -> new HypervisorException.BackendUnavailable(
                        "setpriv not found: apt-get install util-linux"));
        CgroupDriver driver = Cgroups.detect(config.cgroupRoot(), config.instance());
        try {
            long host = config.hostMemoryBytes() > 0 ? config.hostMemoryBytes()
                    : HostTools.memTotalBytes(Path.of("/proc/meminfo"));
            return new SandboxHypervisor(config, bwrap, setpriv, driver, host, startProbe);
        } catch (IOException e) {
            throw new HypervisorException.BackendUnavailable("sandbox backend '" + config.instance()
                    + "' cannot start: " + e.getMessage(), e);
        }
    }

    @Override
    public String backendName() {
        return "sandbox";
    }

    public SandboxConfig config() {
        return config;
    }

    /** The cgroup driver in use ({@code v1} or {@code v2}). */
    public String cgroupVersion() {
        return cgroupDriver.version();
    }

    /** Whether the per-qube pids limit is enforced here (a pids controller is mounted). */
    boolean cgroupDriverLimitsPids() {
        return cgroupDriver.limitsPids();
    }

    int hostUid(QubeSpec spec) {
        return config.uidBase() + spec.domainId();
    }

    // ---- definitions -------------------------------------------------------------------------

    @Override
    public CompletableFuture<Void> define(QubeSpec spec) {
        if (closed) {
            return closedFuture();
        }
        try {
            validate(spec);
        } catch (HypervisorException e) {
            return CompletableFuture.failedFuture(e);
        }
        SandboxQube qube = new SandboxQube(spec, hostUid(spec));
        synchronized (admission) {
            if (qubes.containsKey(spec.name())) {
                return CompletableFuture.failedFuture(new HypervisorException.AlreadyDefined(
                        "qube '" + spec.name() + "' is already defined"));
            }
            for (SandboxQube other : qubes.values()) {
                if (other.spec.domainId() == spec.domainId()) {
                    return CompletableFuture.failedFuture(new HypervisorException.AlreadyDefined(
                            "domain id " + spec.domainId() + " is already used by qube '" + other.name() + "'"));
                }
            }
            qubes.put(spec.name(), qube);
        }
        return LaneFutures.unwrap(qube.lane.submit(() -> {
            try {
                store.writeSpec(spec);
                return CompletableFuture.completedFuture(null);
            } catch (IOException e) {
                qubes.remove(spec.name(), qube);
                throw new HypervisorException.OperationFailed("qube '" + spec.name()
                        + "': cannot save its definition: " + e.getMessage(), e);
            }
        }, workers));
    }

    private void validate(QubeSpec spec) {
        String name = spec.name();
        if (spec.templateRoot().isEmpty() || !Files.isDirectory(spec.templateRoot().get())) {
            throw new HypervisorException.OperationFailed("qube '" + name + "': the sandbox backend needs a"
                    + " templateRoot directory, got " + spec.templateRoot().map(Path::toString).orElse("none"));
        }
        if (spec.init().isEmpty()) {
            throw new HypervisorException.OperationFailed("qube '" + name + "': init command is empty");
        }
        if ((long) config.uidBase() + spec.domainId() > SandboxConfig.MAX_UID) {
            throw new HypervisorException.OperationFailed("qube '" + name + "': domain id " + spec.domainId()
                    + " is too large for uidBase " + config.uidBase());
        }
    }

    @Override
    public QubeSpec spec(String name) {
        return qube(name).spec;
    }

    @Override
    public CompletableFuture<Void> undefine(String name) {
        return onLane(name, qube -> {
            requireState(qube, "undefine", QubeState.HALTED);
            try {
                store.deleteQube(name);
            } catch (IOException e) {
                throw failed(qube, "undefine", e);
            }
            qubes.remove(name, qube);
            return CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public QubeState state(String name) {
        return qube(name).state;
    }

    @Override
    public List<String> list() {
        List<String> names = new ArrayList<>(qubes.keySet());
        names.sort(null);
        return names;
    }

    // ---- life cycle ----------------------------------------------------------------------------

    @Override
    public CompletableFuture<Void> start(String name) {
        return onLane(name, this::doStart);
    }

    private CompletableFuture<Void> doStart(SandboxQube qube) {
        requireState(qube, "start", QubeState.HALTED);
        ledger.admit(qube);
        QubeSpec spec = qube.spec;
        try {
            store.writeRun(spec.name(), new QubeStateStore.RunRecord(QubeStateStore.Phase.STARTING, 0, 0));
            startProbe.reached(spec.name(), "recorded");
            Optional<Path> privateDir = PrivateStorage.prepare(spec, qube.hostUid);
            PrivateStorage.prepareChannelDir(spec, qube.hostUid);
            HostPaths.requireReachable(spec);
            cgroupDriver.create(spec.name(), new CgroupLimits(spec.maxMemoryMiB() << 20, qube.targetBytes,
                    config.pidsMax(), spec.vcpus()));
            startProbe.reached(spec.name(), "cgroup-created");
            SandboxLauncher.Launched launched = launcher.launch(spec, qube.hostUid, privateDir,
                    store.consoleLog(spec.name()), config.startTimeout());
            startProbe.reached(spec.name(), "launched");
            if (qube.killRequested) {
                launched.launcher().destroyForcibly(); // the kill's signal may have preceded the launch
                throw new HypervisorException.OperationFailed("start of qube '" + spec.name()
                        + "' interrupted: the qube was killed");
            }
            ProcessHandle init = launched.init() != null ? launched.init() : launched.launcher().toHandle();
            store.writeRun(spec.name(), new QubeStateStore.RunRecord(QubeStateStore.Phase.RUNNING,
                    launched.launcher().pid(), init.pid()));
            SandboxQube.Running running = new SandboxQube.Running(launched.launcher().pid(), init,
                    launched.launcher().onExit().thenApply(Process::exitValue));
            qube.running = running;
            qube.state = QubeState.RUNNING;
            publish(qube, LifecycleEvent.Kind.STARTED, "");
            watch(qube, running);
            return CompletableFuture.completedFuture(null);
        } catch (IOException | RuntimeException e) {
            boolean killed = qube.killRequested;
            cleanUpQuietly(qube);
            qube.killRequested = false;
            qube.state = QubeState.HALTED;
            if (killed) {
                publish(qube, LifecycleEvent.Kind.HALTED, "killed while starting");
                throw new HypervisorException.OperationFailed("start of qube '" + spec.name()
                        + "' interrupted: the qube was killed", e);
            }
            throw e instanceof HypervisorException he ? he : failed(qube, "start", e);
        }
    }

    @Override
    public CompletableFuture<Void> pause(String name) {
        return onLane(name, qube -> {
            requireState(qube, "pause", QubeState.RUNNING);
            try {
                cgroups.freeze(name, config.freezeTimeout());
            } catch (IOException e) {
                thawQuietly(name);
                throw failed(qube, "pause", e);
            }
            qube.state = QubeState.PAUSED;
            publish(qube, LifecycleEvent.Kind.PAUSED, "");
            return CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public CompletableFuture<Void> unpause(String name) {
        return onLane(name, qube -> {
            requireState(qube, "unpause", QubeState.PAUSED);
            try {
                cgroupDriver.thaw(name);
                if (!CgroupActions.await(() -> !cgroupDriver.isFrozen(name), config.freezeTimeout())) {
                    throw new IOException("cgroup did not thaw within " + config.freezeTimeout().toMillis() + " ms");
                }
            } catch (IOException e) {
                throw failed(qube, "unpause", e);
            }
            qube.state = QubeState.RUNNING;
            publish(qube, LifecycleEvent.Kind.UNPAUSED, "");
            return CompletableFuture.completedFuture(null);
        });
    }

    /** SIGTERM to the init (a paused qube is thawed first so it can act on it); SIGKILL after the timeout. */
    @Override
    public CompletableFuture<Void> shutdown(String name, Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            return CompletableFuture.failedFuture(new HypervisorException.OperationFailed(
                    "shutdown timeout of '" + name + "' must be zero or positive, was " + timeout));
        }
        return onLane(name, qube -> {
            requireState(qube, "shut down", QubeState.RUNNING, QubeState.PAUSED);
            SandboxQube.Running running = qube.running;
            boolean paused = qube.state == QubeState.PAUSED;
            qube.state = QubeState.STOPPING;
            if (paused) {
                thawQuietly(name);
            }
            running.init().destroy();
            return running.exit().thenApply(status -> true)
                    .completeOnTimeout(false, timeout.toNanos(), TimeUnit.NANOSECONDS)
                    .thenApplyAsync(exited -> {
                        finishStop(qube, exited ? "shutdown"
                                : "shutdown timed out after " + timeout.toMillis() + " ms: killed");
                        return null;
                    }, workers);
        });
    }

    /**
     * Kills at once: a kill does not wait behind a start or a shutdown in flight. It marks the qube
     * and SIGKILLs its sandbox now; the in-flight operation then ends as a kill (a start fails with
     * "interrupted: the qube was killed", a shutdown halts with reason "killed"), and this future
     * completes once the qube is halted.
     */
    @Override
    public CompletableFuture<Void> kill(String name) {
        SandboxQube known = qubes.get(name);
        boolean interrupts = known != null && !closed
                && (known.state == QubeState.STARTING || known.state == QubeState.STOPPING);
        CompletableFuture<Void> immediate = CompletableFuture.completedFuture(null);
        if (interrupts) {
            known.killRequested = true;
            immediate = CompletableFuture.runAsync(() -> killNow(known), workers);
        }
        CompletableFuture<Void> signalled = immediate;
        return onLane(name, qube -> signalled.handle((ignored, failure) -> null).thenApplyAsync(ignored -> {
            // the lane waits for the immediate kill too, so it can never hit a later start of the qube
            if (interrupts && qube.state == QubeState.HALTED) {
                return null; // the interrupted operation halted it
            }
            requireState(qube, "kill", QubeState.RUNNING, QubeState.PAUSED, QubeState.STOPPING);
            qube.state = QubeState.STOPPING;
            finishStop(qube, "killed");
            return null;
        }, workers));
    }

    /** Off the lane: SIGKILLs the sandbox of a qube whose start or shutdown is in flight. */
    private void killNow(SandboxQube qube) {
        try {
            cgroups.killAndRemove(qube.name(), config.killTimeout(), QubeExits.launcherPidIfChild(qube));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "immediate kill of " + qube.name()
                    + " failed; the queued kill retries", e);
        }
    }

    /** Lane-only: kills what remains, cleans up, HALTED. On failure the qube stays STOPPING (kill retries). */
    private void finishStop(SandboxQube qube, String reason) {
        try {
            janitor.cleanUp(qube.spec, qube.hostUid, QubeExits.launcherPidIfChild(qube));
            QubeExits.awaitReaped(qube.running, config.killTimeout());
        } catch (IOException e) {
            throw failed(qube, "stop", e);
        }
        qube.running = null;
        boolean killed = qube.killRequested;
        qube.killRequested = false;
        qube.state = QubeState.HALTED;
        publish(qube, LifecycleEvent.Kind.HALTED, killed ? "killed" : reason);
    }

    /** Watches the init of a running qube; its unasked exit becomes a DIED event. */
    private void watch(SandboxQube qube, SandboxQube.Running running) {
        running.exit().whenComplete((status, failure) -> {
            if (closed) {
                return;
            }
            try {
                qube.lane.submit(() -> {
                    onInitExit(qube, running, status);
                    return CompletableFuture.completedFuture(null);
                }, workers);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot handle the exit of " + qube.name(), e);
            }
        });
    }

    private void onInitExit(SandboxQube qube, SandboxQube.Running running, Integer status) {
        if (qube.running != running) {
            return; // a shutdown or kill already took care of it
        }
        qube.state = QubeState.CRASHED;
        String reason = QubeExits.deathReason(cgroupDriver, qube, status);
        LOG.log(System.Logger.Level.INFO, "qube {0} died: {1}", qube.name(), reason);
        cleanUpQuietly(qube);
        qube.running = null;
        qube.state = QubeState.HALTED;
        publish(qube, LifecycleEvent.Kind.DIED, reason);
    }

    // ---- memory --------------------------------------------------------------------------------

    /**
     * Records the target and, for a running or paused qube, applies it to its cgroup (v1 soft limit,
     * v2 {@code memory.high}): a reclaim goal, never an OOM trigger; the hard limit stays at the maximum.
     */
    @Override
    public CompletableFuture<Void> setMemoryTarget(String name, long targetBytes) {
        SandboxQube known = qubes.get(name);
        if (known != null) {
            long max = known.spec.maxMemoryMiB() << 20;
            if (targetBytes <= 0 || targetBytes > max) {
                throw new IllegalArgumentException("memory target of '" + name + "' must be in (0, " + max
                        + "] bytes, was " + targetBytes);
            }
        }
        return onLane(name, qube -> {
            QubeState state = qube.state;
            if (state == QubeState.RUNNING || state == QubeState.PAUSED) {
                try {
                    cgroupDriver.setMemoryTarget(name, targetBytes);
                } catch (IOException e) {
                    throw failed(qube, "set the memory target of", e);
                }
            }
            qube.targetBytes = targetBytes;
            return CompletableFuture.completedFuture(null);
        });
    }

    @Override
    public MemoryUsage memory(String name) {
        SandboxQube qube = qube(name);
        long current = 0;
        QubeState state = qube.state;
        if (state != QubeState.HALTED && state != QubeState.STARTING) {
            try {
                current = cgroupDriver.memoryUsage(name);
            } catch (IOException e) {
                current = 0; // stopped meanwhile: nothing is charged any more
            }
        }
        return new MemoryUsage(current, qube.targetBytes, qube.spec.maxMemoryMiB() << 20);
    }

    /** Total: configured or MemTotal; free: total minus the targets of every qube that is not halted. */
    @Override
    public HostMemory hostMemory() {
        return ledger.hostMemory();
    }

    // ---- events and closing ----------------------------------------------------------------------

    @Override
    public AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
        return events.subscribe(listener);
    }

    /** Stops the threads, after letting running operations finish (bounded). Qubes keep running. */
    @Override
    public void close() {
        closed = true;
        consoles.close();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(config.startTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "sandbox backend {0}: operations still running at close",
                        config.instance());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        events.close();
        cgroupDriver.removeInstanceGroupIfEmpty();
        instanceLock.close();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private SandboxQube qube(String name) {
        SandboxQube qube = qubes.get(name);
        if (qube == null) {
            throw new HypervisorException.NoSuchQube(name);
        }
        return qube;
    }

    private <T> CompletableFuture<T> onLane(String name, Function<SandboxQube, CompletableFuture<T>> op) {
        if (closed) {
            return closedFuture();
        }
        SandboxQube qube = qubes.get(name);
        if (qube == null) {
            return CompletableFuture.failedFuture(new HypervisorException.NoSuchQube(name));
        }
        Supplier<CompletableFuture<T>> supplier = () -> {
            if (qubes.get(name) != qube) {
                throw new HypervisorException.NoSuchQube(name);
            }
            return op.apply(qube);
        };
        try {
            return LaneFutures.unwrap(qube.lane.submit(supplier, workers));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(new HypervisorException.OperationFailed(
                    "sandbox backend '" + config.instance() + "' is overloaded: " + e, e));
        }
    }

    private <T> CompletableFuture<T> closedFuture() {
        return CompletableFuture.failedFuture(new HypervisorException.OperationFailed(
                "sandbox backend '" + config.instance() + "' is closed"));
    }

    private static void requireState(SandboxQube qube, String operation, QubeState... allowed) {
        QubeState state = qube.state;
        for (QubeState ok : allowed) {
            if (state == ok) {
                return;
            }
        }
        throw new HypervisorException.InvalidState(qube.name(), operation, state);
    }

    private static HypervisorException failed(SandboxQube qube, String operation, Exception cause) {
        return new HypervisorException.OperationFailed("cannot " + operation + " qube '" + qube.name() + "': "
                + cause.getMessage(), cause);
    }

    private void cleanUpQuietly(SandboxQube qube) {
        try {
            janitor.cleanUp(qube.spec, qube.hostUid, QubeExits.launcherPidIfChild(qube));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "cleanup of " + qube.name() + " failed; the next start-up sweep"
                    + " of instance " + config.instance() + " retries it", e);
        }
    }

    private void thawQuietly(String name) {
        try {
            cgroupDriver.thaw(name);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot thaw " + name, e);
        }
    }

    private void publish(SandboxQube qube, LifecycleEvent.Kind kind, String reason) {
        LOG.log(System.Logger.Level.DEBUG, "{0} {1} {2}", qube.name(), kind.name().toLowerCase(Locale.ROOT), reason);
        events.publish(new LifecycleEvent(qube.name(), kind, reason, Instant.now()));
    }
}
