package dev.qrexec.broker.client;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * qrexec-client (dom0) → a fake daemon on the local socket (raw frames, spec 4.3) that forwards the
 * command to the real Java agent of qube 44: the whole dom0→VM path of spec 6.4 but the daemon.
 */
class QrexecClientTest {

    @TempDir
    Path tmp;
    Agent agent;
    RawPeer control;

    @BeforeEach
    void start() throws Exception {
        Path rpc = Files.createDirectories(tmp.resolve("rpc"));
        Path echo = rpc.resolve("test.Echo");
        Files.writeString(echo, "#!/bin/sh\necho \"arg=$1 from=$QREXEC_REMOTE_DOMAIN\"; cat; echo err >&2; exit 7\n");
        Files.setPosixFilePermissions(echo, PosixFilePermissions.fromString("rwxr-xr-x"));
        agent = Agent.start(AgentConfig.builder().vchanDir(tmp).domain(44).triggerSocket(tmp.resolve("agent.sock"))
                .servicePath(rpc.toString()).userMode(UserMode.SELF).build(), new AgentState("vm44"));
        control = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5));
        control.expect(RawPeer.HELLO);
        control.sendHello(4);
    }

    @AfterEach
    void stop() throws Exception {
        control.close();
        agent.close();
    }

    CompletableFuture<Integer> client(ByteArrayOutputStream out, ByteArrayOutputStream err, byte[] in, String... args) {
        Map<String, String> env = Map.of("VCHAN_SOCKET_DIR", tmp.toString(), "VCHAN_DOMAIN", "0");
        String[] full = new String[args.length + 1];
        full[0] = "--socket-dir=" + tmp;
        System.arraycopy(args, 0, full, 1, args.length);
        return CompletableFuture.supplyAsync(() -> QrexecClient.execute(env, new ByteArrayInputStream(in), out,
                new PrintStream(err, true), full));
    }

    @Test
    void dom0ToVmServiceCallThroughLocalSocket() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (RawPeer.Listener local = new RawPeer.Listener(tmp.resolve("qrexec.vm44"))) {
            CompletableFuture<Integer> exit = client(out, err, "input\n".getBytes(), "-d", "vm44",
                    "DEFAULT:QUBESRPC test.Echo+hello dom0");
            try (RawPeer d = local.accept()) {
                d.sendHello(3);
                assertEquals(3, d.expect(RawPeer.HELLO).intAt(0));
                RawPeer.Frame req = d.expect(RawPeer.EXEC_CMDLINE);
                assertArrayEquals(RawPeer.le(0, 0), Arrays.copyOf(req.body(), 8));
                assertEquals("DEFAULT:QUBESRPC test.Echo+hello dom0\0", new String(req.body(), 8, req.body().length - 8));
                d.send(RawPeer.EXEC_CMDLINE, RawPeer.le(44, 513));
                // The daemon replaces DEFAULT with its default user and forwards to the agent.
                AgentHarnessBridge.exec(control, 0, 513, "user:QUBESRPC test.Echo+hello dom0");
                assertEquals(7, exit.get(15, TimeUnit.SECONDS));
            }
        }
        assertEquals("arg=hello from=dom0\ninput\n", out.toString());
        assertTrue(err.toString().contains("err\n"), err.toString());
        assertArrayEquals(RawPeer.le(0, 513), control.expect(RawPeer.CONNECTION_TERMINATED).body());
    }

    @Test
    void exitZeroFlagAndJustExec() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (RawPeer.Listener local = new RawPeer.Listener(tmp.resolve("qrexec.vm44"))) {
            CompletableFuture<Integer> exit = client(out, new ByteArrayOutputStream(), new byte[0], "-E", "-d", "vm44",
                    "user:exit 3");
            try (RawPeer d = local.accept()) {
                d.sendHello(3);
                d.expect(RawPeer.HELLO);
                d.expect(RawPeer.EXEC_CMDLINE);
                d.send(RawPeer.EXEC_CMDLINE, RawPeer.le(44, 514));
                AgentHarnessBridge.exec(control, 0, 514, "user:exit 3");
                assertEquals(0, exit.get(15, TimeUnit.SECONDS));
            }
        }
        try (RawPeer.Listener local = new RawPeer.Listener(tmp.resolve("qrexec.vm44"))) {
            CompletableFuture<Integer> exit = client(out, new ByteArrayOutputStream(), new byte[0], "-e", "-d", "vm44",
                    "user:true");
            try (RawPeer d = local.accept()) {
                d.sendHello(3);
                d.expect(RawPeer.HELLO);
                d.expect(RawPeer.JUST_EXEC);
                d.send(RawPeer.JUST_EXEC, RawPeer.le(44, 515));
                assertEquals(0, exit.get(15, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void refusedByDaemonIs125AndUsageIs2() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (RawPeer.Listener local = new RawPeer.Listener(tmp.resolve("qrexec.vm44"))) {
            CompletableFuture<Integer> exit = client(new ByteArrayOutputStream(), err, new byte[0], "-d", "vm44",
                    "user:true");
            try (RawPeer d = local.accept()) {
                d.sendHello(3);
                d.expect(RawPeer.HELLO);
                d.expect(RawPeer.EXEC_CMDLINE);
            }
            assertEquals(125, exit.get(15, TimeUnit.SECONDS));
        }
        assertEquals(125, client(new ByteArrayOutputStream(), err, new byte[0], "-d", "absent", "user:true")
                .get(15, TimeUnit.SECONDS));
        assertEquals(2, client(new ByteArrayOutputStream(), err, new byte[0], "user:true").get(15, TimeUnit.SECONDS));
        assertEquals(2, client(new ByteArrayOutputStream(), err, new byte[0], "-d", "vm44", "nocolon")
                .get(15, TimeUnit.SECONDS));
    }

    /** Sends EXEC_CMDLINE on the agent's control channel, as the daemon forwards it. */
    static final class AgentHarnessBridge {
        static void exec(RawPeer control, int domain, int port, String cmdline) throws Exception {
            control.send(RawPeer.EXEC_CMDLINE, RawPeer.concat(RawPeer.le(domain, port), RawPeer.cstr(cmdline)));
        }
    }

    /**
     * Run by root for a sandboxed qube (its own uid, owner of its channel directory): the agent
     * may poll for the data socket before qrexec-client binds it, and must never find one it
     * cannot connect to. The socket appears already the qube's, mode 0600.
     */
    @Test
    void theDataSocketAppearsAlreadyGivenToTheChannelDirectorysOwner() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.getAttribute(Path.of("/proc/self"), "unix:uid").equals(0), "chown needs root");
        Path chan = Files.createDirectory(tmp.resolve("ch44"));
        Files.setAttribute(chan, "unix:uid", 4242);
        Files.setAttribute(chan, "unix:gid", 4343);
        Files.setPosixFilePermissions(chan, PosixFilePermissions.fromString("rwx------"));
        Path data = chan.resolve("vchan.0.44.516.sock");
        try (RawPeer.Listener local = new RawPeer.Listener(tmp.resolve("qrexec.vm44"))) {
            Map<String, String> env = Map.of("VCHAN_SOCKET_DIR", chan.toString(), "VCHAN_DOMAIN", "0");
            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> QrexecClient.execute(env,
                    new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(),
                    new PrintStream(new ByteArrayOutputStream(), true), "--socket-dir=" + tmp, "-d", "vm44",
                    "DEFAULT:QUBESRPC test.Echo dom0"));
            try (RawPeer d = local.accept()) {
                d.sendHello(3);
                d.expect(RawPeer.HELLO);
                d.expect(RawPeer.EXEC_CMDLINE);
                d.send(RawPeer.EXEC_CMDLINE, RawPeer.le(44, 516));
                // Poll as the agent does; whatever is found must already be the qube's.
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                        .until(() -> Files.exists(data, java.nio.file.LinkOption.NOFOLLOW_LINKS));
                assertEquals(4242, Files.getAttribute(data, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
                assertEquals(4343, Files.getAttribute(data, "unix:gid", java.nio.file.LinkOption.NOFOLLOW_LINKS));
                assertEquals("rw-------", PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(data, java.nio.file.LinkOption.NOFOLLOW_LINKS)));
                try (RawPeer service = RawPeer.connect(data, Duration.ofSeconds(5))) {
                    service.sendHello(3);
                    service.expect(RawPeer.HELLO);
                    service.send(RawPeer.DATA_STDOUT, new byte[0]);
                    service.send(RawPeer.DATA_STDERR, new byte[0]);
                    service.send(RawPeer.DATA_EXIT_CODE, RawPeer.le(4));
                    assertEquals(4, exit.get(15, TimeUnit.SECONDS));
                }
            }
        }
        assertTrue(Files.notExists(data), "qrexec-client removes its socket");
    }
}
