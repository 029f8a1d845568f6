package dev.qrexec.broker.server;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DisposableProvider;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.services.TestServices;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Qubes run by our own hypervisor backend, under the disposable manager: every qube gets the
 * channel directory {@code <channelRoot>/<name>}; the broker is told about each qube that starts
 * (it connects to its agent) and forgets it when it stops. System info for the policy comes from
 * the manager's registry. With in-process agents (for the sim backend, where nothing runs inside a
 * qube) a Java agent is started for each running qube, as its init would be.
 *
 * <p>Threads: lifecycle events arrive on the backend's event thread and are handed to one
 * single-thread executor of ours, which owns the agent table and declares/forgets qubes.
 */
public final class ManagedQubes implements AutoCloseable {

    private static final Logger LOG = System.getLogger(ManagedQubes.class.getName());

    private final Hypervisor hypervisor;
    private final DispvmManager manager;
    private final Path channelRoot;
    private final boolean inProcessAgents;
    private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "qrexec-managed-qubes");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Agent> agents = new ConcurrentHashMap<>();
    private volatile BrokerDaemon daemon;
    private AutoCloseable subscription;
    private volatile long systemVersion = -1;
    private volatile SystemInfo system;

    /**
     * @param hypervisor      the backend (closed with this object)
     * @param stateDir        where the disposable registry is persisted
     * @param channelRoot     parent of each qube's channel directory
     * @param inProcessAgents start a Java agent for each running qube (sim backend)
     */
    public ManagedQubes(Hypervisor hypervisor, Path stateDir, Path channelRoot, boolean inProcessAgents) {
        this.hypervisor = hypervisor;
        this.channelRoot = channelRoot;
        this.inProcessAgents = inProcessAgents;
        QubeSpecFactory simple = QubeSpecFactory.simple();
        QubeSpecFactory withChannel = (state, qube) -> {
            QubeSpec s = simple.specFor(state, qube);
            return QubeSpec.builder(s.name(), s.domainId()).memoryMiB(s.memoryMiB()).maxMemoryMiB(s.maxMemoryMiB())
                    .vcpus(s.vcpus()).discardOnStop(s.discardOnStop()).channelDir(channelRoot.resolve(s.name()))
                    .build();
        };
        // The hypervisor subscription comes first so that no start is missed, even during recovery.
        this.subscription = hypervisor.subscribe(e -> events.execute(() -> onLifecycle(e)));
        this.manager = DispvmManager.builder(hypervisor).storeDir(stateDir).specFactory(withChannel)
                .readiness((qube, services, timeout) -> agentListening(qube, timeout)).build();
    }

    public DispvmManager manager() {
        return manager;
    }

    /** The registry's system info in the policy's form, re-read only when its version changed. */
    public SystemInfo systemInfo() {
        dev.qrexec.dispvm.registry.SystemInfo current = manager.systemInfo();
        if (current.version() != systemVersion || system == null) {
            system = SystemInfo.fromJson(current.tree());
            systemVersion = current.version();
        }
        return system;
    }

    public QubeStarter starter() {
        return new QubeStarter() {
            @Override
            public Optional<AgentAddress> lookup(String name) {
                try {
                    var q = manager.admin().get(name);
                    return Optional.of(new AgentAddress(name, q.domainId(), channelRoot.resolve(name)));
                } catch (RuntimeException unknown) {
                    return Optional.empty();
                }
            }

            @Override
            public CompletableFuture<AgentAddress> start(String name) {
                Optional<AgentAddress> a = lookup(name);
                if (a.isEmpty()) {
                    return CompletableFuture.failedFuture(new IllegalArgumentException("no qube " + name));
                }
                return manager.admin().start(name).thenApply(v -> a.get());
            }
        };
    }

    public DisposableProvider disposables() {
        return new DispvmDisposables(manager, hypervisor);
    }

    /** Starts telling {@code daemon} about running qubes (those running now included). */
    public void attach(BrokerDaemon daemon) {
        this.daemon = daemon;
        events.execute(() -> {
            for (String q : hypervisor.list()) {
                QubeState state = hypervisor.state(q);
                if (state == QubeState.RUNNING || state == QubeState.PAUSED) {
                    started(q);
                }
            }
        });
    }

    private void onLifecycle(LifecycleEvent e) {
        switch (e.kind()) {
            case STARTED -> started(e.qube());
            case HALTED, DIED -> stopped(e.qube());
            default -> {
            }
        }
    }

    private void started(String qube) {
        Optional<AgentAddress> address = HypervisorQubes.address(hypervisor.spec(qube));
        if (address.isEmpty()) {
            return;
        }
        if (inProcessAgents && !agents.containsKey(qube)) {
            try {
                agents.put(qube, startAgent(address.get()));
            } catch (IOException | RuntimeException ex) {
                LOG.log(Level.WARNING, "cannot start the in-process agent of " + qube, ex);
            }
        }
        BrokerDaemon d = daemon;
        if (d != null) {
            d.declareIfAbsent(address.get());
        }
    }

    private void stopped(String qube) {
        BrokerDaemon d = daemon;
        if (d != null) {
            d.forget(qube);
        }
        Agent a = agents.remove(qube);
        if (a != null) {
            a.close();
        }
    }

    private static Agent startAgent(AgentAddress a) throws IOException {
        Path dir = Files.createDirectories(a.socketDir());
        return Agent.start(AgentConfig.builder().vchanDir(dir).domain(a.domainId()).qubeName(a.name())
                .triggerSocket(dir.resolve("agent.sock")).servicePath(dir.resolve("rpc").toString())
                .configPath(dir.resolve("rpc-config").toString()).javaServices(TestServices.all())
                .userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5)).build(), new AgentState(a.name()));
    }

    /**
     * Readiness of a disposable: its agent's control socket exists (it listens). The services asked
     * for are not called here: this wiring has no dom0 client; {@code DemoSystem} calls them.
     */
    private CompletableFuture<Void> agentListening(String qube, Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Path dir = channelRoot.resolve(qube);
        long deadline = System.nanoTime() + timeout.toNanos();
        Runnable[] poll = new Runnable[1];
        poll[0] = () -> {
            int id = hypervisor.spec(qube).domainId();
            if (Files.exists(dir.resolve("vchan." + id + ".0.512.sock"))) {
                done.complete(null);
            } else if (System.nanoTime() > deadline) {
                done.completeExceptionally(new IllegalStateException("agent of " + qube + " did not start in " + timeout));
            } else {
                CompletableFuture.delayedExecutor(10, java.util.concurrent.TimeUnit.MILLISECONDS).execute(poll[0]);
            }
        };
        poll[0].run();
        return done;
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "unsubscribing failed", e);
        }
        manager.close();
        events.shutdownNow();
        agents.values().forEach(Agent::close);
        hypervisor.close();
    }
}
