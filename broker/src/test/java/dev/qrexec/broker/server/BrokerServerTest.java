package dev.qrexec.broker.server;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.policy.system.SystemInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** The wired daemon: one policy engine behind both policy.sock and the broker's own calls. */
@Timeout(60)
class BrokerServerTest {

    private static final String SYSTEM = """
            {"domains": {
              "dom0": {"tags": [], "type": "AdminVM", "uuid": "00000000-0000-0000-0000-000000000000",
                       "power_state": "Running", "guivm": null},
              "work": {"tags": [], "type": "AppVM", "uuid": "11111111-1111-1111-1111-111111111111",
                       "power_state": "Running", "guivm": null},
              "vault": {"tags": [], "type": "AppVM", "uuid": "22222222-2222-2222-2222-222222222222",
                        "power_state": "Running", "guivm": null}
            }}""";

    @Test
    void policyFilesDecideCallsAndPolicySockAnswersTheSame() throws Exception {
        Path root = Files.createTempDirectory(Path.of("/tmp"), "qs");
        Path policy = Files.createDirectories(root.resolve("policy.d"));
        Files.writeString(policy.resolve("30-test.policy"), """
                test.Upper * work vault allow
                * * @anyvm @anyvm deny
                """);
        Agent work = agent(root, "work", 46);
        Agent vault = agent(root, "vault", 47);
        Path upper = root.resolve("vault/rpc/test.Upper");
        Files.writeString(upper, "#!/bin/sh\ntr a-z A-Z\n");
        Files.setPosixFilePermissions(upper, PosixFilePermissions.fromString("rwxr-xr-x"));
        SystemInfo system = SystemInfo.fromJson(SYSTEM);
        try (BrokerServer server = BrokerServer.builder().policyDir(policy).systemInfo(() -> system)
                .socketDir(root.resolve("run"))
                .qube(new AgentAddress("work", 46, root.resolve("work")))
                .qube(new AgentAddress("vault", 47, root.resolve("vault")))
                .start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.daemon().sessions().stream()
                    .allMatch(s -> s.state() == AgentSession.State.READY));

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", "46", "VCHAN_SOCKET_DIR",
                            root.resolve("work").toString()), new ByteArrayInputStream("abc".getBytes()), out,
                    new PrintStream(err, true, StandardCharsets.UTF_8),
                    "--agent-socket=" + root.resolve("work/agent.sock"), "vault", "test.Upper");
            assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
            assertEquals("ABC", out.toString(StandardCharsets.UTF_8));

            int denied = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", "47", "VCHAN_SOCKET_DIR",
                            root.resolve("vault").toString()), new ByteArrayInputStream(new byte[0]),
                    new ByteArrayOutputStream(), new PrintStream(new ByteArrayOutputStream(), true),
                    "--agent-socket=" + root.resolve("vault/agent.sock"), "work", "test.Upper");
            assertEquals(126, denied);

            assertTrue(policySock(root.resolve("run/policy.sock"),
                    "source=work\nintended_target=vault\nservice_and_arg=test.Upper+\n\n")
                    .contains("result=allow"));
            assertTrue(Files.exists(root.resolve("run/qrexec.47")));
            assertTrue(Files.isSymbolicLink(root.resolve("run/qrexec.vault")));
        } finally {
            work.close();
            vault.close();
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String policySock(Path socket, String request) throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer reply = ByteBuffer.allocate(4096);
            while (ch.read(reply) >= 0) {
                if (!reply.hasRemaining()) {
                    break;
                }
            }
            return new String(reply.array(), 0, reply.position(), StandardCharsets.US_ASCII);
        }
    }

    private static Agent agent(Path root, String name, int domain) throws Exception {
        Path dir = Files.createDirectories(root.resolve(name));
        Path rpc = Files.createDirectories(dir.resolve("rpc"));
        Path cfg = Files.createDirectories(dir.resolve("rpc-config"));
        return Agent.start(AgentConfig.builder().vchanDir(dir).domain(domain).qubeName(name)
                .triggerSocket(dir.resolve("agent.sock")).servicePath(rpc.toString()).configPath(cfg.toString())
                .javaServices(Map.of()).userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5)).build(), new AgentState(name));
    }

    @Test
    void builderAndQubeSpecsAreValidated() {
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> BrokerServer.builder().start());
        assertTrue(missing.getMessage().contains("policyDir"), missing.getMessage());
        BrokerServer.Builder b = BrokerServer.builder().qube(new AgentAddress("a", 5, Path.of("/tmp")));
        assertThrows(IllegalArgumentException.class, () -> b.qube(new AgentAddress("b", 5, Path.of("/tmp"))));
        assertEquals(new AgentAddress("work", 46, Path.of("/run/vchan")), ServeCommand.parseQube("work:46:/run/vchan"));
        assertThrows(IllegalArgumentException.class, () -> ServeCommand.parseQube("work:x:/d"));
        assertThrows(IllegalArgumentException.class, () -> ServeCommand.parseQube("work:46"));
        assertThrows(IllegalArgumentException.class, () -> ServeCommand.parseQube("dom0:0:/d"));
    }
}
