package dev.qrexec.broker.server;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.daemon.UnixSocketTransport;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.services.TestServices;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code @dispvm:dvm} calls through the real disposable manager on the sim hypervisor. Each qube
 * the manager starts gets a Java agent in its own channel directory (started by the readiness
 * hook, as init would start it in a real qube), so the broker reaches it like any other agent.
 */
@Timeout(60)
class DisposableCallTest {

    private Path root;
    private SimHypervisor sim;
    private DispvmManager manager;
    private UnixSocketTransport transport;
    private BrokerDaemon daemon;
    private final Map<String, Agent> agents = new ConcurrentHashMap<>();

    private void start() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "qd");
        sim = SimHypervisor.builder().hostMemoryMiB(16384).allLatencies(Duration.ofMillis(5)).build();
        QubeSpecFactory simple = QubeSpecFactory.simple();
        QubeSpecFactory withChannels = (state, qube) -> {
            QubeSpec s = simple.specFor(state, qube);
            return QubeSpec.builder(s.name(), s.domainId()).memoryMiB(s.memoryMiB()).maxMemoryMiB(s.maxMemoryMiB())
                    .vcpus(s.vcpus()).discardOnStop(s.discardOnStop())
                    .channelDir(root.resolve("ch").resolve(s.name())).build();
        };
        QubeReadiness agentUp = (qube, services, timeout) -> {
            try {
                QubeSpec spec = sim.spec(qube);
                Path dir = Files.createDirectories(spec.channelDir().orElseThrow());
                agents.put(qube, Agent.start(AgentConfig.builder().vchanDir(dir).domain(spec.domainId())
                        .qubeName(qube).triggerSocket(dir.resolve("agent.sock"))
                        .servicePath(dir.resolve("rpc").toString()).configPath(dir.resolve("cfg").toString())
                        .javaServices(TestServices.all()).userMode(UserMode.SELF)
                        .dataConnectTimeout(Duration.ofSeconds(5)).sessionTimeout(Duration.ofSeconds(5)).build(),
                        new AgentState(qube)));
                return CompletableFuture.completedFuture(null);
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        };
        manager = DispvmManager.builder(sim).specFactory(withChannels).readiness(agentUp).build();
        manager.admin().setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0.05");
        manager.admin().create("fedora", QubeClass.TEMPLATE_VM, Map.of());
        manager.admin().setFeature("fedora", Features.QREXEC, "1");
        manager.admin().setFeature("fedora", Features.RPC_WAIT_RUNNING, "1");
        manager.admin().setFeature("fedora", Features.RPC_WAIT_SESSION, "1");
        manager.admin().create("dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        manager.admin().create("work", QubeClass.APP_VM, Map.of("template", "fedora", "default_dispvm", "dvm"));
        manager.admin().start("work").get();
        if (!agents.containsKey("work")) {
            // Readiness is awaited for disposables; an ordinary qube's init would start its agent.
            agentUp.awaitOperational("work", Duration.ofSeconds(5)).get();
        }

        transport = UnixSocketTransport.create(2);
        daemon = new BrokerDaemon(transport, DaemonConfig.defaults(), r -> PolicyVerdict.Allow.to("@dispvm:dvm"),
                Dom0Services.none(), QubeStarter.NONE, new DispvmDisposables(manager, sim));
        AgentSession work = daemon.declare(HypervisorQubes.address(sim.spec("work")).orElseThrow());
        await().atMost(Duration.ofSeconds(10)).until(() -> work.state() == AgentSession.State.READY);
    }

    private String call(String input) {
        Path dir = root.resolve("ch/work");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", String.valueOf(sim.spec("work").domainId()),
                        "VCHAN_SOCKET_DIR", dir.toString()), new ByteArrayInputStream(input.getBytes()), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "--agent-socket=" + dir.resolve("agent.sock"), "@dispvm", "test.Echo");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void coldAndPreloadedDisposablesServeOneCallEachAndAreDestroyed() throws Exception {
        start();
        assertEquals("cold", call("cold"));
        // The disposable is released once both ends terminated: killed and removed.
        await().atMost(Duration.ofSeconds(10)).until(() -> sim.list().stream().noneMatch(q -> q.startsWith("disp")));

        manager.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.queueStatus("dvm").ready().size() == 1);
        String preloaded = manager.queueStatus("dvm").ready().get(0);
        assertEquals("warm", call("warm"));
        await().atMost(Duration.ofSeconds(10)).until(() -> !sim.list().contains(preloaded));
        await().until(() -> daemon.session(preloaded).isEmpty());
        assertEquals(0, daemon.session("work").orElseThrow().callsInFlight());
    }

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (transport != null) {
            transport.close();
        }
        if (manager != null) {
            manager.close();
        }
        if (sim != null) {
            sim.close();
        }
        agents.values().forEach(Agent::close);
        if (root != null) {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
