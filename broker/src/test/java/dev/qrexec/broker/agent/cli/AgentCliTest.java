package dev.qrexec.broker.agent.cli;

import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentCliTest {

    @TempDir
    Path tmp;

    @Test
    void startsFromTheSocketTransportEnvironment() throws Exception {
        Map<String, String> env = Map.of("VCHAN_DOMAIN", "45", "VCHAN_SOCKET_DIR", tmp.toString(),
                "QREXEC_SERVICE_PATH", tmp.resolve("rpc").toString());
        AgentCli.Started s = AgentCli.start(env, "--agent-socket=" + tmp.resolve("agent.sock"),
                "--ready-file=" + tmp.resolve("ready"), "--name=work");
        try (RawPeer d = RawPeer.connect(tmp.resolve("vchan.45.0.512.sock"), Duration.ofSeconds(5))) {
            assertEquals(4, d.expect(RawPeer.HELLO).intAt(0));
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(tmp.resolve("ready")));
            assertEquals("work", s.agent().config().qubeName());
            assertTrue(s.agent().state().isSessionReady(), "no session file: the session counts as up");
            assertTrue(s.agent().config().javaServices().containsKey("qubes.OpenURL"));
        } finally {
            s.agent().close();
        }
    }

    @Test
    void usageErrorsExit2() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(err, true);
        assertEquals(2, AgentCli.execute(Map.of("VCHAN_SOCKET_DIR", tmp.toString()), p));
        assertTrue(err.toString().contains("VCHAN_DOMAIN"), err.toString());
        assertEquals(2, AgentCli.execute(Map.of("VCHAN_DOMAIN", "4"), p, "--bogus=1"));
        assertEquals(2, AgentCli.execute(Map.of("VCHAN_DOMAIN", "x"), p));
        assertEquals(2, AgentCli.execute(Map.of("VCHAN_DOMAIN", "4"), p, "--user-mode=other"));
        assertEquals(0, AgentCli.execute(Map.of(), p, "--help"));
    }
}
