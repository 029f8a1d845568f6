package dev.qrexec.broker.agent;

import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dom0 → VM calls against a real agent over Unix sockets, frames as in spec Appendix B. */
class AgentExecTest {

    @TempDir
    Path tmp;
    AgentHarness h;
    RawPeer daemon;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(tmp, Map.of());
        daemon = h.daemon();
    }

    @AfterEach
    void stop() throws Exception {
        daemon.close();
        h.close();
    }

    static AgentHarness.Result collect(RawPeer data) throws InterruptedException {
        return AgentHarness.collect(data);
    }

    RawPeer call(int port, String cmdline, byte[] stdin) throws Exception {
        return h.call(daemon, port, cmdline, stdin);
    }

    @Test
    void appendixBDom0ToVmRelaysStdoutStderrAndExitCode() throws Exception {
        h.service("test.Echo", "tr a-z A-Z; echo \"arg=$1\"; echo to-stderr >&2; exit 7");
        try (RawPeer data = call(513, "user:QUBESRPC test.Echo+fromBroker dom0", "lower case input\n".getBytes())) {
            AgentHarness.Result r = collect(data);
            assertEquals("LOWER CASE INPUT\narg=fromBroker\n", r.out());
            assertEquals("to-stderr\n", r.err());
            assertEquals(7, r.exit());
            assertTrue(r.stdoutEof() && r.stderrEof(), "both streams end with an empty frame before the exit code");
            assertTrue(data.isEof(Duration.ofSeconds(5)), "the agent hangs up after the exit code");
        }
        RawPeer.Frame term = daemon.expect(RawPeer.CONNECTION_TERMINATED);
        assertArrayEquals(RawPeer.le(0, 513), term.body());
    }

    @Test
    void serviceSeesQrexecEnvironment() throws Exception {
        h.service("test.Env", "env | grep ^QREXEC_ | sort");
        try (RawPeer data = call(514, "user:QUBESRPC test.Env+arg1 vm12 keyword adminvm", new byte[0])) {
            AgentHarness.Result r = collect(data);
            String out = r.out();
            assertTrue(out.contains("QREXEC_SERVICE_FULL_NAME=test.Env+arg1\n"), out);
            assertTrue(out.contains("QREXEC_REMOTE_DOMAIN=vm12\n"), out);
            assertTrue(out.contains("QREXEC_SERVICE_ARGUMENT=arg1\n"), out);
            assertTrue(out.contains("QREXEC_REQUESTED_TARGET_TYPE=keyword\n"), out);
            assertTrue(out.contains("QREXEC_REQUESTED_TARGET_KEYWORD=adminvm\n"), out);
            assertTrue(out.contains("QREXEC_AGENT_PID=" + ProcessHandle.current().pid() + "\n"), out);
            assertEquals(0, r.exit());
        }
    }

    @Test
    void exactArgumentFileWinsOverBareService() throws Exception {
        h.service("test.Which", "echo bare");
        h.service("test.Which+special", "echo exact; echo \"argc=$#\"");
        try (RawPeer data = call(515, "user:QUBESRPC test.Which+special dom0", new byte[0])) {
            assertEquals("exact\nargc=1\n", collect(data).out());
        }
        try (RawPeer data = call(516, "user:QUBESRPC test.Which+other dom0", new byte[0])) {
            assertEquals("bare\n", collect(data).out());
        }
    }

    @Test
    void missingServiceIs127WithEmptyStreams() throws Exception {
        try (RawPeer data = call(517, "user:QUBESRPC test.Missing+x dom0", new byte[0])) {
            AgentHarness.Result r = collect(data);
            assertEquals(127, r.exit());
            assertEquals(0, r.stdout().length);
            assertTrue(r.stdoutEof() && r.stderrEof());
        }
    }

    @Test
    void nonExecutableServiceIs126AndBrokenConfigIs125() throws Exception {
        Files.writeString(h.rpc.resolve("test.NoExec"), "#!/bin/sh\necho hi\n");
        try (RawPeer data = call(518, "user:QUBESRPC test.NoExec dom0", new byte[0])) {
            assertEquals(126, collect(data).exit());
        }
        h.service("test.BadConfig", "echo hi");
        Files.writeString(h.rpcConfig.resolve("test.BadConfig"), "wait-for-session = maybe\n");
        try (RawPeer data = call(519, "user:QUBESRPC test.BadConfig dom0", new byte[0])) {
            assertEquals(125, collect(data).exit());
        }
    }

    @Test
    void malformedCommandLineIs125() throws Exception {
        try (RawPeer data = call(520, "no-user-separator", new byte[0])) {
            assertEquals(125, collect(data).exit());
        }
        try (RawPeer data = call(521, "user:QUBESRPC bad/name dom0", new byte[0])) {
            assertEquals(125, collect(data).exit());
        }
    }

    @Test
    void plainCommandRunsInShellAndSignalIs128PlusSignal() throws Exception {
        try (RawPeer data = call(522, "root:cat; echo done; exit 3", "in\n".getBytes())) {
            AgentHarness.Result r = collect(data);
            assertEquals("in\ndone\n", r.out());
            assertEquals(3, r.exit());
        }
        try (RawPeer data = call(523, "user:kill -TERM $$", new byte[0])) {
            assertEquals(128 + 15, collect(data).exit());
        }
    }

    @Test
    void justExecSendsOnlyExitCodeAndLeavesProcessRunning() throws Exception {
        Path marker = tmp.resolve("marker");
        h.service("test.Touch", "sleep 0.2; touch " + marker);
        try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 530))) {
            AgentHarness.exec(daemon, RawPeer.JUST_EXEC, 0, 530, "user:QUBESRPC test.Touch dom0");
            try (RawPeer data = l.accept()) {
                data.sendHello(4);
                data.expect(RawPeer.HELLO);
                RawPeer.Frame f = data.expect(RawPeer.DATA_EXIT_CODE);
                assertEquals(0, f.intAt(0));
                assertTrue(data.isEof(Duration.ofSeconds(5)));
            }
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(marker));
        try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 531))) {
            AgentHarness.exec(daemon, RawPeer.JUST_EXEC, 0, 531, "user:QUBESRPC test.Nothing dom0");
            try (RawPeer data = l.accept()) {
                data.sendHello(4);
                data.expect(RawPeer.HELLO);
                assertEquals(127, data.expect(RawPeer.DATA_EXIT_CODE).intAt(0));
            }
        }
    }

    @Test
    void version2PeerGetsFourKibChunks() throws Exception {
        h.service("test.Big", "head -c 20000 /dev/zero");
        try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 540))) {
            AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 540, "user:QUBESRPC test.Big dom0");
            try (RawPeer data = l.accept()) {
                data.sendHello(2);
                data.expect(RawPeer.HELLO);
                data.send(RawPeer.DATA_STDIN, new byte[0]);
                int total = 0;
                while (true) {
                    RawPeer.Frame f = data.read();
                    if (f.type() == RawPeer.DATA_EXIT_CODE) {
                        break;
                    }
                    assertTrue(f.body().length <= 4096, "chunk of " + f.body().length + " bytes at version 2");
                    if (f.type() == RawPeer.DATA_STDOUT) {
                        total += f.body().length;
                    }
                }
                assertEquals(20000, total);
            }
        }
    }
}
