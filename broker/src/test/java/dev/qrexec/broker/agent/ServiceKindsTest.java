package dev.qrexec.broker.agent;

import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Socket services, wait-for-session and user switching. */
class ServiceKindsTest {

    @TempDir
    Path tmp;
    AgentHarness h;
    RawPeer daemon;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(tmp, Map.of("test.Java", call -> {
            call.stdout().write("java".getBytes());
            return 0;
        }));
        daemon = h.daemon();
    }

    @AfterEach
    void stop() throws Exception {
        daemon.close();
        h.close();
    }

    @Test
    void socketServiceGetsDescriptorThenData() throws Exception {
        Path sock = h.rpc.resolve("test.Socket");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel c = server.accept()) {
                    byte[] all = Channels.newInputStream(c).readAllBytes();
                    c.write(java.nio.ByteBuffer.wrap("reply".getBytes()));
                    return new String(all);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (RawPeer data = h.call(daemon, 800, "user:QUBESRPC test.Socket+x vm9", "body".getBytes())) {
                AgentHarness.Result r = AgentHarness.collect(data);
                assertEquals("reply", r.out());
                assertEquals(0, r.exit());
            }
            assertEquals("test.Socket+x vm9\0body", seen.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void waitForSessionHoldsTheServiceUntilTheSessionIsUp() throws Exception {
        Files.writeString(h.rpcConfig.resolve("test.Java"), "wait-for-session = true\n");
        try (RawPeer data = h.call(daemon, 810, "user:nogui:QUBESRPC test.Java dom0", new byte[0])) {
            assertEquals("java", AgentHarness.collect(data).out(), "nogui: skips the wait");
        }
        try (RawPeer data = h.call(daemon, 811, "user:QUBESRPC test.Java dom0", new byte[0])) {
            RawPeer.Frame f = null;
            try {
                f = data.read(Duration.ofMillis(300));
            } catch (AssertionError expected) {
                // nothing yet: the service waits for the session
            }
            assertEquals(null, f);
            assertFalse(h.state.isSessionReady());
            h.state.markSessionReady();
            assertEquals("java", AgentHarness.collect(data).out());
        }
    }

    @Test
    void switchModeRunsAsTheRequestedUser() throws Exception {
        Assumptions.assumeTrue(dev.qrexec.broker.admin.AdminAccess.ownerOnly().ownerUid() == 0
                        && (Files.isExecutable(Path.of("/usr/sbin/runuser")) || Files.isExecutable(Path.of("/sbin/runuser"))),
                "needs root and runuser to switch users");
        AgentState state = new AgentState("vm45");
        Path dir = Files.createDirectories(tmp.resolve("sw"));
        Agent agent = Agent.start(AgentConfig.builder().vchanDir(dir).domain(45).triggerSocket(dir.resolve("a.sock"))
                .servicePath(dir.resolve("rpc").toString()).userMode(UserMode.SWITCH).build(), state);
        try (RawPeer d = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5))) {
            d.expect(RawPeer.HELLO);
            d.sendHello(4);
            assertEquals("nobody\n", run(d, dir, 820, "nobody:id -un").out());
            assertEquals(125, run(d, dir, 821, "no-such-user-xyz:id -un").exit());
        } finally {
            agent.close();
        }
    }

    private static AgentHarness.Result run(RawPeer control, Path dir, int port, String cmd) throws Exception {
        try (RawPeer.Listener l = new RawPeer.Listener(dir.resolve("vchan.0.45." + port + ".sock"))) {
            AgentHarness.exec(control, RawPeer.EXEC_CMDLINE, 0, port, cmd);
            try (RawPeer data = l.accept()) {
                data.sendHello(4);
                data.expect(RawPeer.HELLO);
                try {
                    data.send(RawPeer.DATA_STDIN, new byte[0]);
                } catch (java.io.IOException e) {
                    // the call may already be over
                }
                return AgentHarness.collect(data);
            }
        }
    }
}
