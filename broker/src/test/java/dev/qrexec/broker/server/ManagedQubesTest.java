package dev.qrexec.broker.server;

import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.xen.sim.SimHypervisor;
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
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** What {@code qrexec serve --hypervisor=sim --in-process-agents} runs, minus the command line. */
@Timeout(60)
class ManagedQubesTest {

    @Test
    void qubesStartedThroughTheRegistryAreServedAndForgottenWhenTheyStop() throws Exception {
        Path root = Files.createTempDirectory(Path.of("/tmp"), "qm");
        Path policy = Files.createDirectories(root.resolve("policy.d"));
        Files.writeString(policy.resolve("30-test.policy"), """
                test.Echo * @anyvm @anyvm allow
                test.Echo * @anyvm @dispvm allow
                * * @anyvm @anyvm deny
                """);
        SimHypervisor sim = SimHypervisor.builder().hostMemoryMiB(16384).allLatencies(Duration.ofMillis(5)).build();
        try (ManagedQubes managed = new ManagedQubes(sim, root.resolve("state"), root.resolve("run/qubes"), true);
             BrokerServer server = BrokerServer.builder().policyDir(policy).systemInfo(managed::systemInfo)
                     .socketDir(root.resolve("run")).qubeStarter(managed.starter())
                     .disposables(managed.disposables()).start()) {
            managed.attach(server.daemon());
            var admin = managed.manager().admin();
            admin.create("fedora", QubeClass.TEMPLATE_VM, Map.of());
            admin.create("dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
            admin.create("work", QubeClass.APP_VM, Map.of("template", "fedora", "default_dispvm", "dvm"));
            admin.create("vault", QubeClass.APP_VM, Map.of("template", "fedora"));
            admin.start("work").get();
            await().atMost(Duration.ofSeconds(10)).until(() -> server.daemon().session("work")
                    .map(s -> s.state() == AgentSession.State.READY).orElse(false));
            int work = admin.get("work").domainId();

            // vault is halted: the policy allows autostart, so the call starts it.
            assertEquals("one", call(root, work, "vault", "one"));
            assertTrue(server.daemon().session("vault").isPresent());
            assertEquals("two", call(root, work, "@dispvm", "two"));
            await().atMost(Duration.ofSeconds(10)).until(() -> sim.list().stream().noneMatch(q -> q.startsWith("disp")));

            admin.kill("vault").get();
            await().atMost(Duration.ofSeconds(10)).until(() -> server.daemon().session("vault").isEmpty());
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String call(Path root, int domain, String target, String input) {
        Path dir = root.resolve("run/qubes/work");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", String.valueOf(domain), "VCHAN_SOCKET_DIR",
                        dir.toString()), new ByteArrayInputStream(input.getBytes()), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "--agent-socket=" + dir.resolve("agent.sock"), target, "test.Echo");
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }
}
