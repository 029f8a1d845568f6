package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static dev.qrexec.broker.daemon.RawPeer.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** dom0 -> VM through the local socket, older agents, and a dom0 service whose caller stops reading. */
@Timeout(60)
class LocalSocketAndLegacyTest extends DaemonTestBase {

    @Test
    void qrexecClientThroughTheLocalSocketFollowsAppendixB() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("unused"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        AgentSession s = connect(vm);
        Path sockets = dir.resolve("run");
        daemon.serveLocalSockets(sockets);
        await().until(() -> java.nio.file.Files.exists(sockets.resolve("qrexec.vm44")));
        try (RawPeer client = RawPeer.connect(sockets.resolve("qrexec.vm44"))) {
            assertEquals(3, client.expect(HELLO).intAt(0), "the daemon speaks first on the local socket");
            client.send(HELLO, le(3));
            client.send(EXEC_CMDLINE, concat(le(0, 0), "DEFAULT:QUBESRPC test.Echo+fromBroker dom0\0".getBytes()));
            Frame reply = client.expect(EXEC_CMDLINE);
            assertEquals(8, reply.body().length);
            assertEquals(44, reply.intAt(0));
            int port = reply.intAt(4);
            Frame exec = vm.control().expect(EXEC_CMDLINE);
            assertEquals(0, exec.intAt(0));
            assertEquals(port, exec.intAt(4));
            assertEquals("user:QUBESRPC test.Echo+fromBroker dom0", FakeAgent.cstring(exec.body(), 8));
            assertEquals(1, s.portsInUse());
            vm.terminated(0, port);
            assertTrue(client.atEof(), "the daemon closes the local connection once the call terminated");
            await().until(() -> s.portsInUse() == 0);
        }
    }

    @Test
    void localSocketRefusesServiceConnectAndSecondRequests() throws Exception {
        start(DaemonConfig.defaults(), r -> new PolicyVerdict.Deny("unused"), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        Path sockets = dir.resolve("run");
        daemon.serveLocalSockets(sockets);
        await().until(() -> java.nio.file.Files.exists(sockets.resolve("qrexec.44")));
        try (RawPeer client = RawPeer.connect(sockets.resolve("qrexec.44"))) {
            client.expect(HELLO);
            client.send(HELLO, le(3));
            client.send(SERVICE_CONNECT, concat(le(0, 0), fixed("SOCKET1", 32)));
            assertTrue(client.atEof());
        }
    }

    @Test
    void versionThreeAgentUsesTriggerService3WithoutRequestedSource() throws Exception {
        List<CallRequest> asked = new CopyOnWriteArrayList<>();
        start(DaemonConfig.defaults(), r -> {
            asked.add(r);
            return new PolicyVerdict.Deny("test");
        }, Dom0Services.none(), QubeStarter.NONE, DisposableProvider.NONE);
        FakeAgent old = agent("old", 44);
        daemon.declare(old.address());
        assertEquals(3, old.handshake(3));
        old.control().send(TRIGGER3, concat(fixed("dom0", 64), fixed("SOCKET9", 32), "qubes.OpenURL\0".getBytes()));
        assertArrayEquals(fixed("SOCKET9", 32), old.control().expect(SERVICE_REFUSED).body());
        assertFalse(asked.get(0).hasRequestedSourceField());
        assertEquals("qubes.OpenURL", asked.get(0).serviceAndArg());
    }

    @Test
    void dom0ServiceBlocksWhileTheCallerDoesNotReadAndLosesNothing() throws Exception {
        long total = 64L * 1024 * 1024;
        AtomicLong written = new AtomicLong();
        Dom0Services services = Dom0Services.none().register("test.Source", (call, in, out) -> {
            byte[] chunk = new byte[32 * 1024];
            while (written.get() < total) {
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            return 0;
        });
        start(DaemonConfig.defaults(), r -> PolicyVerdict.Allow.to("dom0"), services, QubeStarter.NONE,
                DisposableProvider.NONE);
        FakeAgent vm = agent("vm44", 44);
        connect(vm);
        vm.trigger("dom0", "SOCKET1", "test.Source");
        int port = vm.control().expect(SERVICE_CONNECT).intAt(4);
        try (RawPeer data = vm.clientListen(port)) {
            data.send(STDIN, new byte[0]);
            long[] last = {-1};
            await().pollInterval(java.time.Duration.ofMillis(300)).until(() -> {
                long now = written.get();
                boolean stalled = now == last[0];
                last[0] = now;
                return stalled;
            });
            assertTrue(written.get() < 16L * 1024 * 1024, "service wrote " + written.get() + " with no reader");
            long received = 0;
            int exit = -1;
            while (exit < 0) {
                Frame f = data.read();
                if (f.type() == STDOUT) {
                    received += f.body().length;
                } else if (f.type() == EXIT_CODE) {
                    exit = f.intAt(0);
                }
            }
            assertEquals(total, received);
            assertEquals(0, exit);
        }
    }
}
