package dev.qrexec.broker.agent;

import dev.qrexec.broker.services.TestServices;
import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile or broken daemon, data peer or local client: the agent closes that channel with a
 * logged reason, never buffers without bound, and keeps serving.
 */
class AgentHostileInputTest {

    @TempDir
    Path tmp;
    AgentHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(tmp, TestServices.all(), Duration.ofSeconds(1));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    /** After a bad control connection, a new daemon must get a working agent. */
    void assertAgentStillWorks(int port) throws Exception {
        try (RawPeer daemon = h.daemon(); RawPeer data = h.call(daemon, port, "user:QUBESRPC test.Echo dom0", "ok".getBytes())) {
            assertEquals("ok", AgentHarness.collect(data).out());
        }
    }

    RawPeer rawControl() {
        RawPeer d = RawPeer.connect(h.agent.controlPath(), Duration.ofSeconds(5));
        try {
            d.expect(RawPeer.HELLO);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return d;
    }

    @Test
    void commandBeforeHelloClosesControlChannel() throws Exception {
        try (RawPeer d = rawControl()) {
            AgentHarness.exec(d, RawPeer.EXEC_CMDLINE, 0, 513, "user:true");
            assertTrue(d.isEof(Duration.ofSeconds(5)));
        }
        assertAgentStillWorks(700);
    }

    @Test
    void unknownTypeOversizeFrameAndOldVersionCloseControlChannel() throws Exception {
        try (RawPeer d = h.daemon()) {
            d.send(0x999, new byte[4]);
            assertTrue(d.isEof(Duration.ofSeconds(5)));
        }
        try (RawPeer d = h.daemon()) {
            d.sendRaw(RawPeer.concat(RawPeer.le(RawPeer.EXEC_CMDLINE, 1_000_000), new byte[64]));
            assertTrue(d.isEof(Duration.ofSeconds(5)));
        }
        try (RawPeer d = rawControl()) {
            d.sendHello(1);
            assertTrue(d.isEof(Duration.ofSeconds(5)));
        }
        try (RawPeer d = h.daemon()) {
            // Command line without its NUL terminator.
            d.send(RawPeer.EXEC_CMDLINE, RawPeer.concat(RawPeer.le(0, 513), "user:true".getBytes()));
            assertTrue(d.isEof(Duration.ofSeconds(5)));
        }
        assertAgentStillWorks(701);
    }

    @Test
    void answersForUnknownRequestsAreIgnored() throws Exception {
        try (RawPeer d = h.daemon()) {
            d.send(RawPeer.SERVICE_CONNECT, RawPeer.concat(RawPeer.le(0, 513), RawPeer.fixed("SOCKET99", 32)));
            d.send(RawPeer.SERVICE_REFUSED, RawPeer.fixed("NOT-A-SOCKET", 32));
            d.send(RawPeer.SERVICE_REFUSED, RawPeer.fixed("SOCKET\u00ff", 32));
            try (RawPeer data = h.call(d, 702, "user:QUBESRPC test.Echo dom0", "still".getBytes())) {
                assertEquals("still", AgentHarness.collect(data).out());
            }
        }
    }

    @Test
    void oversizeAndLateStdinCloseTheCallOnly() throws Exception {
        try (RawPeer daemon = h.daemon()) {
            try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 710))) {
                AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 710, "user:QUBESRPC test.Echo dom0");
                try (RawPeer data = l.accept()) {
                    data.sendHello(4);
                    data.expect(RawPeer.HELLO);
                    data.send(RawPeer.DATA_STDIN, new byte[65536 + 1]);
                    assertTrue(skipToEof(data), "a chunk over 64 KiB ends the call");
                }
            }
            assertArrayEquals(RawPeer.le(0, 710), daemon.expect(RawPeer.CONNECTION_TERMINATED).body());
            try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 711))) {
                AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 711, "user:QUBESRPC test.Sink dom0");
                try (RawPeer data = l.accept()) {
                    data.sendHello(4);
                    data.expect(RawPeer.HELLO);
                    data.send(RawPeer.DATA_STDIN, new byte[0]);
                    data.send(RawPeer.DATA_STDIN, "late".getBytes());
                    assertTrue(skipToEof(data));
                }
            }
            assertArrayEquals(RawPeer.le(0, 711), daemon.expect(RawPeer.CONNECTION_TERMINATED).body());
            try (RawPeer data = h.call(daemon, 712, "user:QUBESRPC test.Echo dom0", "fine".getBytes())) {
                assertEquals("fine", AgentHarness.collect(data).out());
            }
        }
    }

    /** Reads until EOF; the agent may or may not have sent frames before closing. */
    private static boolean skipToEof(RawPeer data) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (data.read(Duration.ofSeconds(5)).type() == -1) {
                return true;
            }
        }
        return false;
    }

    @Test
    void dataPeerThatNeverListensIsGivenUpOn() throws Exception {
        try (RawPeer daemon = h.daemon()) {
            AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 720, "user:QUBESRPC test.Echo dom0");
            // The agent retries for its 1 s connect timeout, then reports the call as over.
            assertArrayEquals(RawPeer.le(0, 720), daemon.read(Duration.ofSeconds(10)).body());
            assertEquals(0, h.agent.runningCalls());
        }
    }

    @Test
    void garbageAndOversizeOnTriggerSocketOnlyDropThatClient() throws Exception {
        try (RawPeer daemon = h.daemon()) {
            try (RawPeer c = RawPeer.connect(tmp.resolve("agent.sock"), Duration.ofSeconds(5))) {
                c.sendRaw("GET / HTTP/1.0\r\n\r\n".getBytes());
                assertTrue(c.isEof(Duration.ofSeconds(5)));
            }
            try (RawPeer c = RawPeer.connect(tmp.resolve("agent.sock"), Duration.ofSeconds(5))) {
                String service = "x".repeat(5000);
                c.send(RawPeer.TRIGGER_SERVICE4, RawPeer.concat(new byte[64], RawPeer.fixed("dom0", 64),
                        RawPeer.fixed("SOCKET", 32), RawPeer.cstr(service)));
                assertTrue(c.isEof(Duration.ofSeconds(5)), "a trigger over the 4 KiB control limit is refused");
            }
            try (RawPeer c = RawPeer.connect(tmp.resolve("agent.sock"), Duration.ofSeconds(5), true)) {
                c.send(RawPeer.TRIGGER_SERVICE4, RawPeer.concat(new byte[64], RawPeer.fixed("dom0", 64),
                        RawPeer.fixed("SOCKET", 32), RawPeer.cstr("test.Ok")));
                RawPeer.Frame t = daemon.expect(RawPeer.TRIGGER_SERVICE4);
                daemon.send(RawPeer.SERVICE_CONNECT, RawPeer.concat(RawPeer.le(0, 730),
                        Arrays.copyOfRange(t.body(), 128, 160)));
                assertArrayEquals(RawPeer.le(0, 730), c.readRaw(Duration.ofSeconds(5)));
            }
            assertArrayEquals(RawPeer.le(0, 730), daemon.expect(RawPeer.CONNECTION_TERMINATED).body());
        }
    }

    @Test
    void peerThatStopsReadingStallsTheSenderInsteadOfFillingMemory() throws Exception {
        long offered = 256L * 1024 * 1024;
        AtomicLong sent = new AtomicLong();
        try (RawPeer daemon = h.daemon(); RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 740))) {
            AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 740, "user:QUBESRPC test.Echo dom0");
            try (RawPeer data = l.acceptPaused()) {
                data.sendHello(4);
                Thread sender = new Thread(() -> {
                    byte[] chunk = new byte[65536];
                    try {
                        while (sent.get() < offered) {
                            data.send(RawPeer.DATA_STDIN, chunk);
                            sent.addAndGet(chunk.length);
                        }
                    } catch (IOException e) {
                        // closed by the test
                    }
                }, "flood");
                sender.setDaemon(true);
                sender.start();
                // We read nothing: echo's stdout fills, then its stdin, then the agent stops reading.
                long[] last = {-1};
                Awaitility.await("sender stalls").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> {
                            long now = sent.get();
                            boolean stalled = now == last[0] && now > 0;
                            last[0] = now;
                            return stalled;
                        });
                assertTrue(sent.get() < 32L * 1024 * 1024, "only " + sent.get() + " bytes may be in flight");
            }
        }
    }
}
