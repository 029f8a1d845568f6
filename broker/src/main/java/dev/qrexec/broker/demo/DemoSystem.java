package dev.qrexec.broker.demo;

import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.server.BrokerServer;
import dev.qrexec.broker.server.DispvmDisposables;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.QubeAdmin;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.examples.ExamplePolicies;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sandbox.HostTemplateRoot;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The small system of the demo and of {@code qrexec serve}, wired end to end: a hypervisor backend
 * (sandbox, else sim), the disposable manager with its persistent registry, the broker daemon
 * (policy in force, policy.sock, local sockets) and a Java agent in every running qube.
 *
 * <p>The qubes: dom0, the template {@value #TEMPLATE}, the AppVMs {@value #WORK} and
 * {@value #PERSONAL}, and {@value #DVM}, the system's {@code default_dispvm}, with dom0's
 * {@code preload-dispvm-max}. The policy is {@code policies-examples} (plus any extra files).
 *
 * <p>Threads: this class owns no thread. Readiness waits run on the manager's threads as futures;
 * hypervisor events arrive on the backend's event thread and only forget a qube in the broker or
 * stop its in-process agent (both non-blocking).
 */
public final class DemoSystem implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DemoSystem.class.getName());

    public static final String TEMPLATE = "debian-13";
    public static final String DVM = "default-dvm";
    public static final String WORK = "work";
    public static final String PERSONAL = "personal";
    /** The service whose policy asks (30-user.policy: work → personal, default personal). */
    public static final String FILECOPY = "qubes.Filecopy";

    private final SystemLayout layout;
    private final BackendChoice backend;
    private final QubeAgents agents;
    private final DispvmManager manager;
    private final BrokerServer server;
    private final Duration agentTimeout;
    /** Runs the blocking readiness calls (qrexec-client); bounded: at most 32 qubes starting at once. */
    private final java.util.concurrent.ThreadPoolExecutor readiness;
    /** Set once right after construction (the subscription needs this object). */
    private volatile AutoCloseable lifecycle;
    private volatile boolean closed;
    /** Whoever flips this first (the caller or the shutdown hook of a command) runs the shutdown. */
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();

    private DemoSystem(SystemLayout layout, BackendChoice backend, QubeAgents agents, DispvmManager manager,
                       BrokerServer server, Duration agentTimeout) {
        this.layout = layout;
        this.backend = backend;
        this.agents = agents;
        this.manager = manager;
        this.server = server;
        this.agentTimeout = agentTimeout;
        AtomicInteger n = new AtomicInteger();
        this.readiness = new java.util.concurrent.ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(32), r -> {
                    Thread t = new Thread(r, "qrexec-readiness-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        readiness.allowCoreThreadTimeOut(true);
    }

    public static Builder builder(Path stateDir) {
        return new Builder(stateDir);
    }

    public SystemLayout layout() {
        return layout;
    }

    public Hypervisor hypervisor() {
        return backend.hypervisor();
    }

    /** One line: the backend and why it was chosen. */
    public String backendLine() {
        return backend.why();
    }

    /** The backend instance name: the marker of its cgroups ({@code qrexec.<instance>}). */
    public String instance() {
        return backend.instance();
    }

    public boolean sandboxed() {
        return agents instanceof SandboxAgents;
    }

    public DispvmManager manager() {
        return manager;
    }

    /** dom0's prompt, where asks go when no answers are scripted. */
    public dev.qrexec.broker.daemon.ask.PromptHub promptHub() {
        return server.promptHub();
    }

    public BrokerDaemon daemon() {
        return server.daemon();
    }

    /** Where a qube's agent listens, as the broker and qrexec-client-vm reach it. */
    public AgentAddress address(String qube) {
        QubeSpec spec = hypervisor().spec(qube);
        return new AgentAddress(qube, spec.domainId(), spec.channelDir().orElseThrow());
    }

    /** The trigger socket of a qube's agent, on the host (qrexec-client-vm's {@code --agent-socket}). */
    public Path triggerSocket(String qube) {
        return layout.channelDir(qube).resolve(AgentBundle.TRIGGER_SOCKET);
    }

    /** Waits until the preload queue of {@value #DVM} holds {@code n} ready disposables. */
    public void awaitReadyPreloads(int n, Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (manager.queueStatus(DVM).ready().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("preload queue of " + DVM + " not filled in " + timeout.toSeconds()
                        + " s: " + manager.queueStatus(DVM));
            }
            Thread.sleep(20);
        }
    }

    /** Starts a qube (if halted) through the manager and waits until it is operational (see below). */
    public CompletableFuture<AgentAddress> startQube(String qube) {
        return manager.admin().start(qube)
                .thenCompose(v -> awaitAgent(qube, List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM), agentTimeout))
                .thenApply(v -> address(qube));
    }

    /**
     * A qube is operational when its agent has answered the broker's handshake and then each of
     * {@code services} (e.g. {@code qubes.WaitForRunningSystem}, plus {@code qubes.WaitForSession} for
     * a GUI preload) exited 0, called from dom0 as Qubes does before it pauses a preload. The calls go
     * through the whole service path of the agent, so a preloaded disposable is also warm when a caller
     * gets it. Declares the qube to the broker first, so its session is ready before any call needs it.
     */
    private CompletableFuture<Void> awaitAgent(String qube, List<String> services, Duration timeout) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("system is shutting down"));
        }
        try {
            QubeSpec spec = hypervisor().spec(qube);
            agents.started(spec);
            BrokerDaemon d = server.daemon();
            AgentSession s = d.session(qube).orElseGet(() -> declareQuietly(d, address(qube)));
            // The manager cancels the wait once it is not needed (the preload was claimed or
            // discarded): a failed call is then not made again on a qube that may be gone.
            CompletableFuture<Void> wait = new CompletableFuture<>();
            s.whenReady()
                    .thenComposeAsync(x -> CompletableFuture.allOf(services.stream()
                            .map(service -> CompletableFuture.runAsync(
                                    () -> waitForService(qube, service, () -> !wait.isDone()), readiness))
                            .toArray(CompletableFuture[]::new)), readiness)
                    .whenComplete((v, e) -> {
                        if (e != null) {
                            wait.completeExceptionally(e);
                        } else {
                            wait.complete(null);
                        }
                    });
            return wait.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@code qrexec-client -d QUBE DEFAULT:QUBESRPC <service> dom0}; blocks until it exits. */
    private void waitForService(String qube, String service, java.util.function.BooleanSupplier wanted) {
        // The broker binds the qube's local socket asynchronously after declare(); its name link comes last.
        Path local = layout.socketDir().resolve("qrexec." + qube);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(local)) {
            if (System.nanoTime() > deadline || closed) {
                throw new IllegalStateException("the broker's local socket " + local + " did not appear");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
        // Idempotent: a call that failed on its way (e.g. the agent still setting up) is simply made again.
        for (int attempt = 1; ; attempt++) {
            try {
                runService(qube, service);
                return;
            } catch (IllegalStateException e) {
                if (attempt == 3 || closed) {
                    throw e;
                }
                if (!wanted.getAsBoolean()) {
                    LOG.log(Level.DEBUG, "readiness call of {0} no longer needed: {1}", qube, e.getMessage());
                    throw e;
                }
                LOG.log(Level.INFO, "readiness call of {0} failed, retrying: {1}", qube, e.getMessage());
            }
        }
    }

    private void runService(String qube, String service) {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = dev.qrexec.broker.client.QrexecClient.execute(
                Map.of("VCHAN_SOCKET_DIR", layout.channelDir(qube).toString()), java.io.InputStream.nullInputStream(),
                java.io.OutputStream.nullOutputStream(), new java.io.PrintStream(err, true, StandardCharsets.UTF_8),
                "-d", qube, "--socket-dir=" + layout.socketDir(), "DEFAULT:QUBESRPC " + service + " dom0");
        if (code != 0) {
            throw new IllegalStateException(service + " in " + qube + " exited " + code + ": "
                    + err.toString(StandardCharsets.UTF_8).strip());
        }
    }

    /**
     * {@code system.thenCompose(wait)}, except that cancelling (or timing out) the result also
     * cancels the wait itself: the preload engine cancels a readiness wait it no longer needs.
     */
    static CompletableFuture<Void> cancellable(CompletableFuture<DemoSystem> system,
                                               java.util.function.Function<DemoSystem, CompletableFuture<Void>> wait) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        system.whenComplete((s, failure) -> {
            if (failure != null) {
                result.completeExceptionally(failure);
                return;
            }
            CompletableFuture<Void> inner = wait.apply(s);
            result.whenComplete((v, e) -> inner.cancel(false));
            inner.whenComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(e);
                } else {
                    result.complete(null);
                }
            });
        });
        return result;
    }

    private static AgentSession declareQuietly(BrokerDaemon d, AgentAddress address) {
        try {
            return d.declare(address);
        } catch (IllegalStateException raced) {
            return d.session(address.name()).orElseThrow(() -> raced);
        }
    }

    private void onLifecycle(LifecycleEvent e) {
        if (e.kind() == LifecycleEvent.Kind.HALTED || e.kind() == LifecycleEvent.Kind.DIED) {
            if (!closed) {
                server.daemon().forget(e.qube());
            }
            if (agents != null) {
                agents.stopped(e.qube());
            }
        }
    }

    /**
     * Stops everything and leaves nothing running: the broker (no more calls), the manager, then every
     * qube is killed and undefined (sandbox: processes, cgroups, sockets, disposable storage go), then
     * the backend. The state directory stays; the caller decides whether to delete it. Also cleans up
     * after a start that failed half-way (parts never built are null and skipped).
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        closeQuietly(lifecycle, "lifecycle subscription");
        readiness.shutdownNow();
        closeQuietly(server, "broker");
        if (manager != null) {
            awaitReleases(Duration.ofSeconds(10));
        }
        closeQuietly(manager, "disposable manager");
        Hypervisor hv = hypervisor();
        List<CompletableFuture<Void>> kills = new ArrayList<>();
        for (String q : hv.list()) {
            kills.add(hv.state(q) == QubeState.HALTED ? CompletableFuture.completedFuture(null)
                    : hv.kill(q).exceptionally(err -> {
                        LOG.log(Level.WARNING, "killing " + q + " failed", err);
                        return null;
                    }));
        }
        await(CompletableFuture.allOf(kills.toArray(CompletableFuture[]::new)), "killing the qubes");
        List<CompletableFuture<Void>> undefines = new ArrayList<>();
        for (String q : hv.list()) {
            undefines.add(hv.undefine(q).exceptionally(err -> {
                LOG.log(Level.WARNING, "undefining " + q + " failed", err);
                return null;
            }));
        }
        await(CompletableFuture.allOf(undefines.toArray(CompletableFuture[]::new)), "undefining the qubes");
        if (agents != null) {
            agents.close();
        }
        try {
            hv.close();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "closing the " + hv.backendName() + " backend failed", e);
        }
    }

    /**
     * Calls that ended have asked the manager to release their disposable; let those clean-ups finish
     * (kill, discard storage, registry) before the manager stops, so none is cut half-way.
     */
    private void awaitReleases(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            java.util.Set<String> preloads = new java.util.HashSet<>(manager.queueStatus(DVM).queue());
            boolean inUse = manager.snapshot().qubes().values().stream()
                    .anyMatch(q -> q.klass() == QubeClass.DISP_VM && !preloads.contains(q.name()));
            if (!inUse) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.log(Level.WARNING, "disposables still being released after " + timeout.toSeconds() + " s; killing them");
    }

    private static void await(CompletableFuture<Void> f, String what) {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(Level.WARNING, what + " did not finish", e);
        }
    }

    private static void closeQuietly(AutoCloseable c, String what) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "closing the " + what + " failed", e);
        }
    }

    /** Validating builder; {@link #start()} builds the system and waits until work and personal are up. */
    public static final class Builder {
        private final Path stateDir;
        private BackendChoice.Wanted backend = BackendChoice.Wanted.AUTO;
        private int preloadMax = 2;
        private Duration agentTimeout = Duration.ofSeconds(30);
        private final Map<String, String> extraPolicies = new LinkedHashMap<>();
        private final Map<String, String> serviceScripts = new LinkedHashMap<>();
        private String hostClassPath = System.getProperty("java.class.path");
        private String askAnswers;

        private Builder(Path stateDir) {
            this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
            // A stand-in for the file copy service, so that the policy's ask for it can be shown.
            serviceScripts.put(FILECOPY, "#!/bin/sh\necho \"received $(wc -c) bytes from $QREXEC_REMOTE_DOMAIN\"\n");
        }

        /**
         * Answers dom0's ask prompts with these {@code ScriptedPrompter} rules (a demo has nobody at
         * the terminal); without them, asks go to prompt agents ({@code ./qrexec prompt}).
         */
        public Builder askAnswers(String rules) {
            dev.qrexec.broker.daemon.ask.ScriptedPrompter.parse(rules); // fail here, not at start()
            this.askAnswers = rules;
            return this;
        }

        /** {@code auto} (sandbox, else sim), {@code sandbox} (fail if unavailable) or {@code sim}. */
        public Builder backend(String name) {
            this.backend = BackendChoice.Wanted.parse(name);
            return this;
        }

        /** dom0's {@code preload-dispvm-max} (default 2). */
        public Builder preloadMax(int n) {
            if (n < 0 || n > 16) {
                throw new IllegalArgumentException("preloadMax must be in [0, 16], was " + n);
            }
            this.preloadMax = n;
            return this;
        }

        /** How long a started qube's agent may take to answer the broker (default 30 s). */
        public Builder agentTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("agentTimeout must be positive, was " + timeout);
            }
            this.agentTimeout = timeout;
            return this;
        }

        /** An extra policy file installed next to the examples (e.g. {@code 10-tests.policy}). */
        public Builder extraPolicy(String fileName, String text) {
            if (!fileName.matches("[0-9a-z_.-]+\\.policy")) {
                throw new IllegalArgumentException("policy file name must match [0-9a-z_.-]+.policy, was '"
                        + fileName + "'");
            }
            extraPolicies.put(fileName, Objects.requireNonNull(text, "text"));
            return this;
        }

        /** An executable service of the template ({@code /etc/qubes-rpc/NAME} in every qube). */
        public Builder serviceScript(String name, String script) {
            if (!name.matches("[A-Za-z0-9_.+-]+")) {
                throw new IllegalArgumentException("invalid service name '" + name + "'");
            }
            serviceScripts.put(name, Objects.requireNonNull(script, "script"));
            return this;
        }

        /** The class path copied into sandboxed qubes for their agent (default: this JVM's). */
        public Builder hostClassPath(String classPath) {
            this.hostClassPath = Objects.requireNonNull(classPath, "classPath");
            return this;
        }

        public DemoSystem start() throws IOException, InterruptedException, TimeoutException {
            SystemLayout layout = new SystemLayout(stateDir);
            layout.create();
            installPolicy(layout);
            // One backend instance per state directory: a restart after a crash sweeps (or adopts) what the
            // previous daemon of this directory left, and never touches another directory's qubes.
            String instance = "qd" + Integer.toHexString(layout.stateDir().toString().hashCode());
            BackendChoice choice = BackendChoice.open(backend, layout.hypervisorState(), instance);
            LOG.log(Level.INFO, choice.why());
            QubeAgents agents = null;
            DispvmManager manager = null;
            BrokerServer server = null;
            DemoSystem partial = null;
            try {
                Path etc = Files.createDirectories(layout.stateDir().resolve("etc"));
                boolean sandbox = !"sim".equals(choice.hypervisor().backendName());
                if (sandbox) {
                    // Rebuilt at every start: a reused state directory gets this daemon's agent code.
                    Leftovers.deleteTree(layout.agentDir());
                    Leftovers.deleteTree(layout.templateRoot());
                    AgentBundle bundle = AgentBundle.create(layout.agentDir(), hostClassPath);
                    Path root = HostTemplateRoot.builder(layout.templateRoot())
                            .readOnly(AgentBundle.MOUNT_NAME, bundle.hostDir()).build();
                    writeServices(root.resolve("etc/qubes-rpc"));
                    agents = new SandboxAgents(bundle, root);
                } else {
                    agents = new InProcessAgents(writeServices(etc.resolve("qubes-rpc")));
                }
                QubeAgents a = agents;
                CompletableFuture<DemoSystem> self = new CompletableFuture<>();
                QubeSpecFactory specs = specs(layout, a);
                manager = DispvmManager.builder(choice.hypervisor()).storeDir(layout.store()).specFactory(specs)
                        .readiness((qube, services, timeout) -> cancellable(self, s -> s.awaitAgent(qube, services, timeout)))
                        .build();
                DispvmManager m = manager;
                BrokerServer.Builder sb = BrokerServer.builder()
                        .policyDir(layout.policyDir())
                        .systemInfo(new RegistrySystemInfo(m))
                        .socketDir(layout.socketDir())
                        .config(DaemonConfig.defaults())
                        .dom0Services(Dom0Services.none().register("qubes.GetDate", (call, in, out) -> {
                            in.transferTo(java.io.OutputStream.nullOutputStream());
                            out.write((java.time.Instant.now().toString() + "\n").getBytes(StandardCharsets.UTF_8));
                            return 0;
                        }))
                        .askTimeout(Duration.ofSeconds(60));
                if (askAnswers != null) {
                    sb.dom0Prompt(dev.qrexec.broker.daemon.ask.ScriptedPrompter.parse(askAnswers));
                }
                server = sb
                        .disposables(new DispvmDisposables(m, choice.hypervisor()))
                        .qubeStarter(new RegistryQubeStarter(m, layout, name -> self.thenCompose(s -> s.startQube(name))))
                        .start();
                DemoSystem system = new DemoSystem(layout, choice, a, m, server, agentTimeout);
                partial = system;
                system.lifecycle = choice.hypervisor().subscribe(system::onLifecycle);
                self.complete(system);
                createQubes(m.admin());
                try {
                    CompletableFuture.allOf(system.startQube(WORK), system.startQube(PERSONAL))
                            .get(agentTimeout.toMillis() * 2, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw new IOException("starting work and personal failed: " + e.getCause().getMessage(), e.getCause());
                }
                return system;
            } catch (IOException | InterruptedException | TimeoutException | RuntimeException e) {
                if (partial == null) {
                    partial = new DemoSystem(layout, choice, agents, manager, server, agentTimeout);
                }
                partial.close();
                throw e;
            }
        }

        private void installPolicy(SystemLayout layout) throws IOException {
            ExamplePolicies.installPolicyDir(layout.policyDir());
            for (Map.Entry<String, String> p : extraPolicies.entrySet()) {
                Files.writeString(layout.policyDir().resolve(p.getKey()), p.getValue(), StandardCharsets.UTF_8);
            }
        }

        private Path writeServices(Path dir) throws IOException {
            Files.createDirectories(dir);
            for (Map.Entry<String, String> s : serviceScripts.entrySet()) {
                Path f = dir.resolve(s.getKey());
                Files.writeString(f, s.getValue(), StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return dir;
        }

        /** Creates what is missing (a reused state directory keeps its qubes). */
        private void createQubes(QubeAdmin admin) {
            createIfMissing(admin, TEMPLATE, QubeClass.TEMPLATE_VM, Map.of());
            admin.setFeature(TEMPLATE, Features.QREXEC, "1");
            admin.setFeature(TEMPLATE, Features.RPC_WAIT_RUNNING, "1");
            admin.setFeature(TEMPLATE, Features.RPC_WAIT_SESSION, "1");
            createIfMissing(admin, DVM, QubeClass.APP_VM, Map.of("template", TEMPLATE, "template_for_dispvms", "True"));
            createIfMissing(admin, WORK, QubeClass.APP_VM, Map.of("template", TEMPLATE));
            createIfMissing(admin, PERSONAL, QubeClass.APP_VM, Map.of("template", TEMPLATE));
            admin.setSystemDefaultDispvm(DVM);
            admin.setFeature("dom0", Features.PRELOAD_DISPVM_MAX, Integer.toString(preloadMax));
        }

        private static void createIfMissing(QubeAdmin admin, String name, QubeClass klass, Map<String, String> props) {
            if (admin.list().stream().noneMatch(q -> q.name().equals(name))) {
                admin.create(name, klass, props);
            }
        }
    }

    /**
     * Disposables start from a fresh copy of their template's private storage; every qube gets its
     * own channel directory under the state directory, and the agent as its init (sandbox).
     */
    private static QubeSpecFactory specs(SystemLayout layout, QubeAgents agents) {
        QubeSpecFactory simple = QubeSpecFactory.simple();
        return (state, qube) -> {
            QubeSpec s = simple.specFor(state, qube);
            boolean disposable = qube.klass() == QubeClass.DISP_VM;
            QubeSpec.Builder b = QubeSpec.builder(s.name(), s.domainId()).memoryMiB(s.memoryMiB())
                    .maxMemoryMiB(s.maxMemoryMiB()).vcpus(1).volatileSizeMiB(64).discardOnStop(disposable)
                    .channelDir(layout.channelDir(s.name())).privateStorage(layout.privateDir(s.name()));
            // The volume model names the snapshot's origin: the dvm template's private, followed on change.
            QubeSpecFactory.privateSnapshotSource(state, qube).ifPresent(origin -> {
                Path source = layout.privateDir(origin);
                try {
                    Files.createDirectories(source);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("cannot create the private storage of " + origin, e);
                }
                b.privateSource(source);
            });
            // Reserved before it is defined (spec 2.2): a preload is already in its template's list here.
            boolean preload = disposable && state.preloadList(state.property(qube, "template")).contains(qube.name());
            return agents.decorate(b, s.name(), preload).build();
        };
    }
}
