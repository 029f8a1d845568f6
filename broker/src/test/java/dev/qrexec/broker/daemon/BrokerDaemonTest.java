package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

import static dev.qrexec.broker.daemon.RawPeer.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(30)
class BrokerDaemonTest extends DaemonTestBase {

    private static final CallPolicy ALLOW_AS_ASKED = r -> PolicyVerdict.Allow.to(r.target());

    private static Dom0Services echoUpper() {
        return Dom0Services.none().register("test.Upper", (call, in, out) -> {
            out.write(new String(in.readAllBytes(), StandardCharsets.UTF_8).toUpperCase()
                    .getBytes(StandardCharsets.UTF_8));
            out.write((" from " + call.source() + " arg=" + call.argument()).getBytes(StandardCharsets.UTF_8));
            return 5;
        });
    }

    @Test
    void controlHandshakeRepliesWithTheAgentsVersionCappedAtFour() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent old = agent("old", 44);
        AgentSession s = daemon.declare(old.address());
        assertEquals(3, old.handshake(3));
        await().until(() -> s.state() == AgentSession.State.READY);
        assertEquals(3, s.version());
    }

    @Test
    void vmToDom0CallFollowsAppendixB() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, echoUpper(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        AgentSession session = connect(vm);

        vm.trigger("dom0", "SOCKET13", "test.Upper+xyz");
        Frame sc = vm.control().expect(SERVICE_CONNECT);
        assertEquals(40, sc.body().length);
        assertEquals(0, sc.intAt(0));
        int port = sc.intAt(4);
        assertTrue(port >= 513 && port <= 768, "port " + port);
        assertArrayEquals(fixed("SOCKET13", 32), Arrays.copyOfRange(sc.body(), 8, 40));

        try (RawPeer data = vm.clientListen(port)) {
            data.send(STDIN, "hi broker".getBytes());
            data.send(STDIN, new byte[0]);
            StringBuilder out = new StringBuilder();
            boolean stdoutEof = false;
            boolean stderrEof = false;
            int exit = -1;
            while (exit < 0) {
                Frame f = data.read();
                switch (f.type()) {
                    case STDOUT -> {
                        if (f.body().length == 0) {
                            stdoutEof = true;
                        } else {
                            out.append(f.text());
                        }
                    }
                    case STDERR -> stderrEof = f.body().length == 0;
                    case EXIT_CODE -> exit = f.intAt(0);
                    default -> fail("unexpected " + f);
                }
            }
            assertEquals("HI BROKER from vm44 arg=xyz", out.toString());
            assertTrue(stdoutEof && stderrEof);
            assertEquals(5, exit);
            assertTrue(data.atEof(), "the broker hangs up after the exit code");
        }
        assertEquals(1, session.portsInUse());
        vm.terminated(0, port);
        await().until(() -> session.portsInUse() == 0 && session.callsInFlight() == 0);
    }

    @Test
    void missingDom0ServiceExits127() throws Exception {
        start(DaemonConfig.defaults(), ALLOW_AS_ASKED, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        vm.trigger("dom0", "SOCKET13", "no.Such");
        int port = vm.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer data = vm.clientListen(port)) {
            // No stdin is sent: the broker answers at once and hangs up, so a write could race
            // with its close. The caller sees both stream EOFs, then 127.
            assertEquals(0, data.expect(STDERR).body().length);
            assertEquals(0, data.expect(STDOUT).body().length);
            assertEquals(127, data.expect(EXIT_CODE).intAt(0));
        }
    }

    @Test
    void executableDom0ServiceGetsArgumentAndEnvironment() throws Exception {
        Path services = Files.createDirectory(dir.resolve("rpc"));
        Path script = services.resolve("test.Env");
        Files.writeString(script, "#!/bin/sh\nread line\necho \"$line|$1|$QREXEC_REMOTE_DOMAIN|"
                + "$QREXEC_REQUESTED_TARGET_TYPE|$QREXEC_REQUESTED_TARGET_KEYWORD\"\nexit 3\n");
        assertTrue(script.toFile().setExecutable(true));
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Allow("DEFAULT", "dom0", true, "@adminvm",
                        java.util.Optional.empty(), java.util.Optional.empty()),
                new Dom0Services(List.of(services)), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        vm.trigger("@adminvm", "SOCKET13", "test.Env+arg1");
        int port = vm.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer data = vm.clientListen(port)) {
            data.send(STDIN, "hello\n".getBytes());
            data.send(STDIN, new byte[0]);
            StringBuilder out = new StringBuilder();
            Frame f;
            while ((f = data.read()).type() != EXIT_CODE) {
                if (f.type() == STDOUT) {
                    out.append(f.text());
                }
            }
            assertEquals("hello|arg1|vm44|keyword|adminvm\n", out.toString());
            assertEquals(3, f.intAt(0));
        }
    }

    @Test
    void denyIsAnsweredWithServiceRefusedCarryingTheIdentBytes() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("denied by policy test:1"), Dom0Services.none(),
                QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        AgentSession s = connect(vm);
        vm.trigger("dom0", "SOCKET13", "test.Deny+zz");
        Frame refused = vm.control().expect(SERVICE_REFUSED);
        assertArrayEquals(fixed("SOCKET13", 32), refused.body());
        await().until(() -> s.callsInFlight() == 0);
    }

    @Test
    void invalidTriggersAreRefusedBeforePolicy() throws Exception {
        List<CallRequest> asked = new CopyOnWriteArrayList<>();
        start(DaemonConfig.defaults(), r -> {
            asked.add(r);
            return new PolicyVerdict.Deny("test");
        }, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        vm.trigger("dom0", "SOCK/13", "test.Svc");
        assertArrayEquals(fixed("SOCK/13", 32), vm.control().expect(SERVICE_REFUSED).body());
        vm.trigger("dom0", "SOCKET1", "+arg");
        vm.control().expect(SERVICE_REFUSED);
        vm.control().send(TRIGGER4, concat(fixed("", 64), fixed("dom0", 64), fixed("SOCKET2", 32),
                "a\0b\0".getBytes(StandardCharsets.ISO_8859_1)));
        vm.control().expect(SERVICE_REFUSED);
        assertTrue(asked.isEmpty(), "policy must not see invalid requests: " + asked);
    }

    @Test
    void namesAreSanitisedAndTheSourceIsTheChannelNotTheMessage() throws Exception {
        List<CallRequest> asked = new CopyOnWriteArrayList<>();
        start(DaemonConfig.defaults(), r -> {
            asked.add(r);
            return new PolicyVerdict.Deny("test");
        }, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        vm.control().send(TRIGGER4, trigger4Body("dom0", "tar get$", "SOCKET13", "svc/x+a b"));
        vm.control().expect(SERVICE_REFUSED);
        CallRequest r = asked.get(0);
        assertEquals("vm44", r.source());
        assertEquals("dom0", r.requestedSource(), "the hint is passed to policy, not trusted");
        assertEquals("tar_get_", r.target());
        assertEquals("svc_x+a_b", r.serviceAndArg());
    }

    @Test
    void floodOfTriggersFromOneQubeIsBoundedAndOthersKeepWorking() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        start(DaemonConfig.defaults().withMaxCallsPerQube(2).withPolicyThreads(3), r -> {
            if (r.source().equals("flooder")) {
                release.await();
            }
            return new PolicyVerdict.Deny("test");
        }, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent flooder = agent("flooder", 44);
        FakeAgent quiet = agent("quiet", 45);
        AgentSession fs = connect(flooder);
        connect(quiet);
        for (int i = 0; i < 10; i++) {
            flooder.trigger("dom0", "SOCKET" + i, "test.Svc");
        }
        // Calls 2..9 are over the limit: refused at once, while 0 and 1 still wait for policy.
        for (int i = 2; i < 10; i++) {
            assertArrayEquals(fixed("SOCKET" + i, 32), flooder.control().expect(SERVICE_REFUSED).body());
        }
        assertEquals(2, fs.callsInFlight());
        quiet.trigger("dom0", "SOCKET99", "test.Svc");
        assertArrayEquals(fixed("SOCKET99", 32), quiet.control().expect(SERVICE_REFUSED).body());
        release.countDown();
        flooder.control().expect(SERVICE_REFUSED);
        flooder.control().expect(SERVICE_REFUSED);
        await().until(() -> fs.callsInFlight() == 0);
    }

    @Test
    void agentThatFloodsTriggersWithoutReadingAnswersIsPausedNotBuffered() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("test"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        // One log line per refusal would make this test about console speed.
        java.util.logging.Logger quiet = java.util.logging.Logger.getLogger("dev.qrexec.broker");
        java.util.logging.Level before = quiet.getLevel();
        quiet.setLevel(java.util.logging.Level.SEVERE);
        FakeAgent flooder = agent("flooder", 44);
        FakeAgent other = agent("other", 45);
        AgentSession fs = connect(flooder);
        connect(other);
        // 60,000 refusals are 2.4 MB of answers: far more than the control channel may hold.
        int total = 60_000;
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        byte[] trigger = trigger4Body("", "dom0", "SOCKET1", "test.Svc");
        Thread writer = new Thread(() -> {
            try {
                while (sent.get() < total) {
                    flooder.control().send(TRIGGER4, trigger);
                    sent.incrementAndGet();
                }
            } catch (Exception e) {
                // closed at tear-down
            }
        });
        writer.setDaemon(true);
        writer.start();
        long[] maxPending = {0};
        long[] last = {-1};
        long[] stalledSince = {System.nanoTime()};
        // Sample the broker's unsent answers until the agent is done or blocked for a second,
        // then two seconds more, so the answers to what it did send have all been produced.
        await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(40)).until(() -> {
            maxPending[0] = Math.max(maxPending[0], fs.pendingControlBytes());
            long now = sent.get();
            if (now != last[0]) {
                last[0] = now;
                stalledSince[0] = System.nanoTime();
            }
            return now == total || System.nanoTime() - stalledSince[0] > 1_000_000_000L;
        });
        long end = System.nanoTime() + 2_000_000_000L;
        await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(5)).until(() -> {
            maxPending[0] = Math.max(maxPending[0], fs.pendingControlBytes());
            return System.nanoTime() > end;
        });
        assertTrue(maxPending[0] < 1024 * 1024, "answers piled up: " + maxPending[0] + " bytes");
        other.trigger("dom0", "SOCKET7", "test.Svc");
        assertArrayEquals(fixed("SOCKET7", 32), other.control().expect(SERVICE_REFUSED).body());
        flooder.close();
        quiet.setLevel(before);
    }

    @Test
    void malformedAndOversizeControlFramesCloseOnlyThatQube() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("test"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent bad = agent("bad", 44);
        FakeAgent huge = agent("huge", 46);
        FakeAgent good = agent("good", 45);
        AgentSession bs = connect(bad);
        AgentSession hs = connect(huge);
        connect(good);
        bad.control().sendRaw(concat(le(0x999, 4), le(0)));
        assertTrue(bad.control().atEof(), "an unknown type closes the channel");
        await().until(() -> bs.state() == AgentSession.State.CLOSED);
        // spec 10.4: a 5000-character service name does not fit the control ring.
        huge.trigger("dom0", "SOCKET1", "a".repeat(5000));
        assertTrue(huge.control().atEof());
        await().until(() -> hs.state() == AgentSession.State.CLOSED);

        good.trigger("dom0", "SOCKET7", "test.Svc");
        assertArrayEquals(fixed("SOCKET7", 32), good.control().expect(SERVICE_REFUSED).body());
    }

    @Test
    void strayConnectionTerminatedIsIgnoredAndBadPortClosesTheChannel() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("test"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        AgentSession s = connect(vm);
        vm.terminated(0, 600);
        vm.trigger("dom0", "SOCKET1", "x");
        vm.control().expect(SERVICE_REFUSED);
        assertEquals(AgentSession.State.READY, s.state());
        vm.terminated(0, 5);
        assertTrue(vm.control().atEof());
    }

    @Test
    void restartedAgentIsReconnected() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("test"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent first = agent("vm44", 44);
        AgentSession s1 = connect(first);
        first.close();
        await().until(() -> s1.state() == AgentSession.State.CLOSED);
        FakeAgent second = agent("vm44", 44);
        assertEquals(4, second.handshake(4));
        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.session("vm44").orElseThrow().state()
                == AgentSession.State.READY);
        second.trigger("dom0", "SOCKET1", "x");
        second.control().expect(SERVICE_REFUSED);
    }

    static String readAll(RawPeer data, int streamType) throws IOException {
        StringBuilder sb = new StringBuilder();
        Frame f;
        while ((f = data.read()).type() != EXIT_CODE) {
            if (f.type() == streamType) {
                sb.append(f.text());
            }
        }
        return sb.toString();
    }
}
