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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * qrexec-client-vm in qube 44 against the real Java agent; the test plays the daemon (raw frames on
 * the control channel) and the remote service (raw frames on the data channel), as in spec 6.1/6.2.
 */
class QrexecClientVmTest {

    @TempDir
    Path tmp;
    Agent agent;
    RawPeer daemon;

    @BeforeEach
    void start() throws Exception {
        agent = Agent.start(AgentConfig.builder().vchanDir(tmp).domain(44).triggerSocket(tmp.resolve("agent.sock"))
                .servicePath(tmp.resolve("rpc").toString()).userMode(UserMode.SELF).build(), new AgentState("vm44"));
        daemon = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5));
        daemon.expect(RawPeer.HELLO);
        daemon.sendHello(4);
    }

    @AfterEach
    void stop() throws Exception {
        daemon.close();
        agent.close();
    }

    record Run(CompletableFuture<Integer> exit, ByteArrayOutputStream out, ByteArrayOutputStream err) {
    }

    Run client(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, String> env = Map.of("VCHAN_DOMAIN", "44", "VCHAN_SOCKET_DIR", tmp.toString());
        String[] full = new String[args.length + 1];
        full[0] = "--agent-socket=" + tmp.resolve("agent.sock");
        System.arraycopy(args, 0, full, 1, args.length);
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> QrexecClientVm.execute(env,
                new ByteArrayInputStream(stdin), out, new PrintStream(err, true), full));
        return new Run(exit, out, err);
    }

    /** The agent forwards the trigger with request id SOCKET<n>; returns that ident. */
    byte[] expectTrigger(String target, String service) throws Exception {
        RawPeer.Frame t = daemon.expect(RawPeer.TRIGGER_SERVICE4);
        assertEquals(160 + service.length() + 1, t.body().length);
        assertArrayEquals(RawPeer.fixed("", 64), Arrays.copyOfRange(t.body(), 0, 64), "no source qube given");
        assertArrayEquals(RawPeer.fixed(target, 64), Arrays.copyOfRange(t.body(), 64, 128));
        byte[] ident = Arrays.copyOfRange(t.body(), 128, 160);
        assertTrue(new String(ident, StandardCharsets.ISO_8859_1).matches("SOCKET[0-9]+\0+"), "ident " + Arrays.toString(ident));
        assertEquals(service + "\0", new String(t.body(), 160, t.body().length - 160, StandardCharsets.ISO_8859_1));
        return ident;
    }

    @Test
    void callToAnotherQubeRelaysDataAndReturnsRemoteExitCode() throws Exception {
        Run run = client("hi broker".getBytes(), "vm45", "test.Echo+a1");
        byte[] ident = expectTrigger("vm45", "test.Echo+a1");
        daemon.send(RawPeer.SERVICE_CONNECT, RawPeer.concat(RawPeer.le(45, 600), ident));
        // Play the target agent's child: connect to the client's listener.
        try (RawPeer svc = RawPeer.connect(tmp.resolve("vchan.44.45.600.sock"), Duration.ofSeconds(5))) {
            svc.sendHello(4);
            svc.expect(RawPeer.HELLO);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            for (RawPeer.Frame f = svc.expect(RawPeer.DATA_STDIN); f.body().length > 0; f = svc.expect(RawPeer.DATA_STDIN)) {
                in.writeBytes(f.body());
            }
            assertEquals("hi broker", in.toString());
            svc.send(RawPeer.DATA_STDOUT, "HI BROKER".getBytes());
            svc.send(RawPeer.DATA_STDOUT, new byte[0]);
            svc.send(RawPeer.DATA_STDERR, "warn\n".getBytes());
            svc.send(RawPeer.DATA_STDERR, new byte[0]);
            svc.send(RawPeer.DATA_EXIT_CODE, RawPeer.le(5));
            assertEquals(5, run.exit().get(10, TimeUnit.SECONDS));
        }
        assertEquals("HI BROKER", run.out().toString());
        assertTrue(run.err().toString().contains("warn\n"));
        RawPeer.Frame term = daemon.expect(RawPeer.CONNECTION_TERMINATED);
        assertArrayEquals(RawPeer.le(45, 600), term.body());
    }

    @Test
    void refusedCallExits126() throws Exception {
        Run run = client(new byte[0], "$default", "test.Deny+zz");
        byte[] ident = expectTrigger("@default", "test.Deny+zz");
        daemon.send(RawPeer.SERVICE_REFUSED, ident);
        assertEquals(126, run.exit().get(10, TimeUnit.SECONDS));
        assertTrue(run.err().toString().contains("Request refused"));
    }

    @Test
    void localProgramExitCodeIsUsedWhenRemoteIsZero() throws Exception {
        Run run = client(new byte[0], "dom0", "test.Echo", "/bin/sh", "-c", "echo local-out; read x; exit 9");
        byte[] ident = expectTrigger("dom0", "test.Echo");
        daemon.send(RawPeer.SERVICE_CONNECT, RawPeer.concat(RawPeer.le(0, 513), ident));
        try (RawPeer svc = RawPeer.connect(tmp.resolve("vchan.44.0.513.sock"), Duration.ofSeconds(5))) {
            svc.sendHello(4);
            svc.expect(RawPeer.HELLO);
            assertEquals("local-out\n", svc.expect(RawPeer.DATA_STDIN).text());
            svc.send(RawPeer.DATA_STDOUT, "line\n".getBytes());
            svc.send(RawPeer.DATA_STDOUT, new byte[0]);
            svc.send(RawPeer.DATA_STDERR, new byte[0]);
            svc.send(RawPeer.DATA_EXIT_CODE, RawPeer.le(0));
            assertEquals(9, run.exit().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void serviceHangingUpWithoutExitCodeIs125AndMissingAgentIs1() throws Exception {
        Run run = client(new byte[0], "vm45", "test.Crash");
        byte[] ident = expectTrigger("vm45", "test.Crash");
        daemon.send(RawPeer.SERVICE_CONNECT, RawPeer.concat(RawPeer.le(45, 601), ident));
        try (RawPeer svc = RawPeer.connect(tmp.resolve("vchan.44.45.601.sock"), Duration.ofSeconds(5))) {
            svc.sendHello(4);
            svc.expect(RawPeer.HELLO);
        }
        assertEquals(125, run.exit().get(10, TimeUnit.SECONDS));

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", "44"), new ByteArrayInputStream(new byte[0]),
                new ByteArrayOutputStream(), new PrintStream(err), "--agent-socket=" + tmp.resolve("nope"), "vm45", "x");
        assertEquals(1, code);
    }

    @Test
    void usageErrorsExit2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", "44"), new ByteArrayInputStream(new byte[0]),
                new ByteArrayOutputStream(), new PrintStream(err), "onlytarget"));
        assertEquals(2, QrexecClientVm.execute(Map.of(), new ByteArrayInputStream(new byte[0]),
                new ByteArrayOutputStream(), new PrintStream(err), "vm1", "svc"));
        assertTrue(err.toString().contains("VCHAN_DOMAIN"));
    }
}
