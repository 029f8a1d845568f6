package dev.qrexec.broker.agent;

import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's calls to itself at start-up ({@link WarmUp}). */
class WarmUpTest {

    @TempDir
    Path tmp;

    @Test
    void warmUpCallsRunTheWholePathNeverAFileAndLeaveNothingBehind() throws Exception {
        Path rpc = Files.createDirectories(tmp.resolve("rpc"));
        Path marker = tmp.resolve("ran");
        // A file of the warm-up's service name must not be started by it.
        Path script = Files.writeString(rpc.resolve("qrexec.WarmUp"), "#!/bin/sh\ntouch " + marker + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path vchan = Files.createDirectories(tmp.resolve("vchan"));
        List<Path> tempBefore = warmUpDirs();
        AgentState state = new AgentState("vm46");
        Agent agent = Agent.start(config(vchan, rpc), state, 12);
        try {
            assertTrue(state.isSystemRunning());
            assertFalse(Files.exists(marker), "the service file was started");
            assertEquals(tempBefore, warmUpDirs(), "a warm-up directory was left behind");
            assertEquals(0, agent.runningCalls());
            // A real call afterwards is served normally.
            try (RawPeer daemon = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5))) {
                daemon.expect(RawPeer.HELLO);
                daemon.sendHello(4);
                try (RawPeer.Listener l = new RawPeer.Listener(vchan.resolve("vchan.0.46.600.sock"))) {
                    AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 600, "user:QUBESRPC test.Echo dom0");
                    try (RawPeer data = l.accept()) {
                        data.sendHello(4);
                        data.expect(RawPeer.HELLO);
                        data.send(RawPeer.DATA_STDIN, "hi".getBytes(StandardCharsets.UTF_8));
                        data.send(RawPeer.DATA_STDIN, new byte[0]);
                        AgentHarness.Result r = AgentHarness.collect(data);
                        assertEquals("hi", r.out());
                        assertEquals(0, r.exit());
                    }
                }
            }
        } finally {
            agent.close();
        }
    }

    @Test
    void aWarmUpThatCannotFinishIsReportedAndTheAgentStartsAnyway() throws Exception {
        Path vchan = Files.createDirectories(tmp.resolve("vchan"));
        AgentState state = new AgentState("vm46");
        Agent agent = Agent.start(config(vchan, tmp.resolve("rpc")), state, 0);
        try {
            WarmUp.Result r = new WarmUp(agent).run(5, Duration.ofNanos(1));
            assertEquals(5, r.rounds());
            assertTrue(r.completed() < 5, r.toString());
            assertNotNull(r.failure(), r.toString());
            assertTrue(r.toString().contains("stopped"), r.toString());
            WarmUp.Result ok = new WarmUp(agent).run(2, Duration.ofSeconds(10));
            assertEquals(2, ok.completed(), ok.toString());
            assertNull(ok.failure());
        } finally {
            agent.close();
        }
    }

    @Test
    void aNegativeNumberOfRoundsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Agent.start(config(tmp, tmp.resolve("rpc")), new AgentState("vm46"), -1));
        assertTrue(e.getMessage().contains("warmUpRounds"), e.getMessage());
    }

    private static AgentConfig config(Path vchan, Path rpc) {
        return AgentConfig.builder().vchanDir(vchan).domain(46).triggerSocket(vchan.resolve("a.sock"))
                .servicePath(rpc.toString())
                .javaServices(Map.of("test.Echo", dev.qrexec.broker.services.TestServices.all().get("test.Echo")))
                .build();
    }

    private static List<Path> warmUpDirs() throws Exception {
        try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("qrexec-warm-up")).sorted().toList();
        }
    }
}
