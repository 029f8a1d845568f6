package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.qrexec.broker.daemon.RawPeer.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** VM -> VM calls relayed by the broker, following spec Appendix A, with raw-frame agents. */
@Timeout(60)
class RelayCallTest extends DaemonTestBase {

    private static final CallPolicy ALLOW_AS_ASKED = r -> PolicyVerdict.Allow.to(r.target());

    /** What the target agent saw of an EXEC_CMDLINE. */
    record Exec(int domain, int port, String commandLine) {
        static Exec of(Frame f) {
            return new Exec(f.intAt(0), f.intAt(4), FakeAgent.cstring(f.body(), 8));
        }
    }

    @Test
    void foreignAgentsSharingOneDirectoryTalkThroughTheBroker() throws Exception {
        start(DaemonConfig.defaults().withDefaultUser("root"), ALLOW_AS_ASKED, Dom0Services.none(),
                QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm46 = agent("vm46", 46);
        FakeAgent vm47 = agent("vm47", 47);
        AgentSession s46 = connect(vm46);
        AgentSession s47 = connect(vm47);

        vm46.trigger("vm47", "SOCKET13", "test.Echo+a1");
        Exec exec = Exec.of(vm47.control().expect(EXEC_CMDLINE));
        assertEquals(0, exec.domain(), "the broker is the target's peer");
        assertEquals("root:QUBESRPC test.Echo+a1 vm46", exec.commandLine());
        Frame sc = vm46.control().expect(SERVICE_CONNECT);
        assertEquals(0, sc.intAt(0));
        int srcPort = sc.intAt(4);
        assertArrayEquals(fixed("SOCKET13", 32), Arrays.copyOfRange(sc.body(), 8, 40));

        try (RawPeer service = vm47.serviceConnect(exec.port(), 4); RawPeer client = vm46.clientListen(srcPort)) {
            client.send(STDIN, "ping".getBytes());
            client.send(STDIN, new byte[0]);
            assertEquals("ping", service.expect(STDIN).text());
            assertEquals(0, service.expect(STDIN).body().length);
            service.send(STDOUT, "pong".getBytes());
            service.send(STDOUT, new byte[0]);
            service.send(STDERR, "warn".getBytes());
            service.send(STDERR, new byte[0]);
            service.send(EXIT_CODE, le(7));
            service.close();
            assertEquals("pong", client.expect(STDOUT).text());
            assertEquals(0, client.expect(STDOUT).body().length);
            assertEquals("warn", client.expect(STDERR).text());
            assertEquals(0, client.expect(STDERR).body().length);
            assertEquals(7, client.expect(EXIT_CODE).intAt(0));
            assertTrue(client.atEof());
        }
        vm46.terminated(0, srcPort);
        vm47.terminated(0, exec.port());
        await().until(() -> s46.portsInUse() == 0 && s47.portsInUse() == 0 && s46.callsInFlight() == 0);
    }

    @Test
    void versionTwoTargetGetsFourKilobyteChunksFromAVersionFourCaller() throws Exception {
        Path other = Files.createDirectory(dir.resolve("b"));
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        FakeAgent tgt = agent("tgt", 47, other);
        connect(src);
        connect(tgt);
        src.trigger("tgt", "SOCKET1", "test.Big");
        Exec exec = Exec.of(tgt.control().expect(EXEC_CMDLINE));
        int srcPort = src.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer service = tgt.serviceConnect(exec.port(), 2); RawPeer client = src.clientListen(srcPort)) {
            client.send(STDIN, new byte[60_000]);
            int total = 0;
            while (total < 60_000) {
                Frame f = service.expect(STDIN);
                assertTrue(f.body().length <= 4096, "chunk of " + f.body().length);
                total += f.body().length;
            }
            assertEquals(60_000, total);
        }
    }

    @Test
    void targetThatHangsUpWithoutExitCodeGivesTheCaller125() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        FakeAgent tgt = agent("tgt", 47);
        connect(src);
        connect(tgt);
        src.trigger("tgt", "SOCKET1", "test.Crash");
        Exec exec = Exec.of(tgt.control().expect(EXEC_CMDLINE));
        int srcPort = src.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer client = src.clientListen(srcPort)) {
            tgt.serviceConnect(exec.port(), 4).close();
            assertEquals(125, client.expect(EXIT_CODE).intAt(0));
        }
    }

    @Test
    void targetAgentDyingMidCallEndsTheCallWithoutLeaks() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        FakeAgent tgt = agent("tgt", 47);
        AgentSession s = connect(src);
        AgentSession t = connect(tgt);
        src.trigger("tgt", "SOCKET1", "test.Svc");
        Exec exec = Exec.of(tgt.control().expect(EXEC_CMDLINE));
        int srcPort = src.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer client = src.clientListen(srcPort)) {
            RawPeer service = tgt.serviceConnect(exec.port(), 4);
            client.send(STDIN, "x".getBytes());
            service.expect(STDIN);
            // The whole target qube goes away: control and data channels at once, no terminations.
            tgt.close();
            service.close();
            assertEquals(125, client.expect(EXIT_CODE).intAt(0));
        }
        await().until(() -> t.state() == AgentSession.State.CLOSED);
        assertEquals(1, s.callsInFlight(), "the caller's agent has not reported its end yet");
        src.terminated(0, srcPort);
        await().until(() -> s.callsInFlight() == 0 && s.portsInUse() == 0);
    }

    @Test
    void callerThatStopsReadingStallsTheServiceWithoutLossOrUnboundedBuffering() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        FakeAgent tgt = agent("tgt", 47);
        connect(src);
        connect(tgt);
        src.trigger("tgt", "SOCKET1", "test.Flood");
        Exec exec = Exec.of(tgt.control().expect(EXEC_CMDLINE));
        int srcPort = src.control().expect(SERVICE_CONNECT).intAt(4);
        long total = 256L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        AtomicBoolean writerFailed = new AtomicBoolean();
        try (RawPeer service = tgt.serviceConnect(exec.port(), 4); RawPeer client = src.clientListen(srcPort)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                byte[] chunk = new byte[65536];
                try {
                    while (written.get() < total) {
                        service.send(STDOUT, chunk);
                        written.addAndGet(chunk.length);
                    }
                    service.send(STDOUT, new byte[0]);
                    service.send(EXIT_CODE, le(0));
                } catch (Exception e) {
                    writerFailed.set(true);
                }
            });
            // The caller reads nothing: the writer must stall after socket buffers and the broker's
            // bounded outbound buffer are full, far below the 256 MiB it wants to send.
            long[] last = {-1};
            await().pollInterval(java.time.Duration.ofMillis(300)).until(() -> {
                long now = written.get();
                boolean stalled = now == last[0];
                last[0] = now;
                return stalled;
            });
            long stalledAt = written.get();
            assertTrue(stalledAt < 32L * 1024 * 1024, "writer got " + stalledAt + " bytes out with no reader");
            assertFalse(writer.isDone());

            long received = 0;
            while (true) {
                Frame f = client.read();
                if (f.type() == EXIT_CODE) {
                    break;
                }
                assertEquals(STDOUT, f.type());
                received += f.body().length;
            }
            assertEquals(total, received, "every byte arrives once the caller reads again");
            assertFalse(writerFailed.get());
        }
    }

    @Test
    void haltedTargetIsStartedWhenAutostartAllows() throws Exception {
        FakeAgent tgt = agent("tgt", 47);
        AtomicBoolean started = new AtomicBoolean();
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        QubeStarter starter = new QubeStarter() {
            @Override
            public Optional<AgentAddress> lookup(String name) {
                return name.equals("tgt") ? Optional.of(tgt.address()) : Optional.empty();
            }

            @Override
            public CompletableFuture<AgentAddress> start(String name) {
                started.set(true);
                CompletableFuture.runAsync(() -> {
                    try {
                        tgt.handshake(4);
                        handshake.complete(null);
                    } catch (Exception e) {
                        handshake.completeExceptionally(e);
                    }
                });
                return CompletableFuture.completedFuture(tgt.address());
            }
        };
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), starter, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        connect(src);
        src.trigger("tgt", "SOCKET1", "test.Svc");
        handshake.get();
        Exec exec = Exec.of(tgt.control().expect(EXEC_CMDLINE));
        assertTrue(started.get());
        assertEquals("user:QUBESRPC test.Svc+ src", exec.commandLine());
        src.control().expect(SERVICE_CONNECT);
    }

    @Test
    void haltedTargetWithoutAutostartIsRefused() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Allow("DEFAULT", "off", false, "off", Optional.empty(),
                Optional.empty()), Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent src = agent("src", 46);
        connect(src);
        src.trigger("off", "SOCKET1", "test.Svc");
        src.control().expect(SERVICE_REFUSED);
    }

    @Test
    void disposableIsReleasedOnceBothEndsTerminated() throws Exception {
        FakeAgent dvm = agent("disp12", 60);
        AtomicBoolean released = new AtomicBoolean();
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        DisposableProvider provider = (template, caller) -> {
            assertEquals("default-dvm", template);
            CompletableFuture.runAsync(() -> {
                try {
                    dvm.handshake(4);
                    handshake.complete(null);
                } catch (Exception e) {
                    handshake.completeExceptionally(e);
                }
            });
            return CompletableFuture.completedFuture(new DisposableProvider.Disposable() {
                @Override
                public AgentAddress agent() {
                    return dvm.address();
                }

                @Override
                public void release() {
                    released.set(true);
                }
            });
        };
        start(DaemonConfig.defaults(), r -> PolicyVerdict.Allow.to("@dispvm:default-dvm"), Dom0Services.none(),
                QubeStarter.NONE, provider);
        FakeAgent src = agent("src", 46);
        AgentSession s = connect(src);
        src.trigger("@dispvm", "SOCKET1", "qubes.OpenURL");
        handshake.get();
        Exec exec = Exec.of(dvm.control().expect(EXEC_CMDLINE));
        assertEquals("user:QUBESRPC qubes.OpenURL+ src", exec.commandLine());
        int srcPort = src.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer service = dvm.serviceConnect(exec.port(), 4); RawPeer client = src.clientListen(srcPort)) {
            client.send(STDIN, "https://example.org\n".getBytes());
            client.send(STDIN, new byte[0]);
            service.send(STDOUT, new byte[0]);
            service.send(EXIT_CODE, le(0));
        }
        src.terminated(0, srcPort);
        assertFalse(released.get(), "one end still runs");
        dvm.terminated(0, exec.port());
        await().until(released::get);
        await().until(() -> s.callsInFlight() == 0 && daemon.session("disp12").isEmpty());
    }
}
