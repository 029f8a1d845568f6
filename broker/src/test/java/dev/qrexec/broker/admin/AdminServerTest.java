package dev.qrexec.broker.admin;

import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin socket over a real Unix socket, backed by the real registry on the sim hypervisor. */
class AdminServerTest {

    @TempDir
    Path tmp;
    SimHypervisor sim;
    DispvmManager manager;
    AdminServer server;
    AdminClient client;

    @BeforeEach
    void start() throws Exception {
        sim = SimHypervisor.builder().build();
        manager = DispvmManager.builder(sim).storeDir(tmp.resolve("store")).timings(PreloadTimings.immediate())
                .readiness(QubeReadiness.immediate()).memoryReleaser(MemoryReleaser.none()).build();
        server = AdminServer.start(tmp.resolve("admin.sock"), new DispvmAdminBackend(manager), AdminAccess.ownerOnly());
        client = new AdminClient(server.path());
        client.call("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        client.call("admin.vm.feature.Set", "qrexec", "fedora", "1");
        client.call("admin.vm.feature.Set", "supported-rpc.qubes.WaitForRunningSystem", "fedora", "1");
        client.call("admin.vm.feature.Set", "supported-rpc.qubes.WaitForSession", "fedora", "1");
        client.call("admin.vm.Create.AppVM", "fedora", "dom0", "name=dvm label=red template_for_dispvms=True");
        client.call("admin.vm.Create.AppVM", "fedora", "dom0", "name=work label=blue default_dispvm=dvm");
    }

    @AfterEach
    void stop() {
        server.close();
        manager.close();
        sim.close();
    }

    AdminException error(String method, String arg, String dest, String payload) {
        return assertThrows(AdminException.class, () -> client.call(method, arg, dest, payload));
    }

    @Test
    void listCreateAndProperties() throws Exception {
        String list = client.call("admin.vm.List", "", "dom0", "");
        assertTrue(list.contains("work class=AppVM state=Halted\n"), list);
        assertTrue(list.contains("dom0 class=AdminVM state=Running\n"), list);
        assertEquals("work class=AppVM state=Halted\n", client.call("admin.vm.List", "", "work", ""));
        assertEquals("default=False type=label blue", client.call("admin.vm.property.Get", "label", "work", ""));
        client.call("admin.vm.property.Set", "label", "work", "green");
        assertEquals("default=False type=label green", client.call("admin.vm.property.Get", "label", "work", ""));
        assertTrue(client.call("admin.vm.property.List", "", "work", "").contains("label\n"));
        client.call("admin.vm.property.Reset", "label", "work", "");
        assertTrue(client.call("admin.vm.property.Get", "label", "work", "").startsWith("default=True"));
        assertEquals("QubesVMNotFoundError", error("admin.vm.property.Get", "label", "nope", "").type());
        assertEquals("QubesNoSuchPropertyError", error("admin.vm.property.Get", "colour", "work", "").type());
        assertEquals("QubesValueError", error("admin.vm.property.Set", "label", "work", "chartreuse").type());
        assertEquals("QubesValueError", error("admin.vm.Create.AppVM", "fedora", "dom0", "name=work").type());
        assertEquals("QubesValueError", error("admin.vm.Create.AppVM", "fedora", "dom0", "label=red").type());
    }

    @Test
    void featuresAndTags() throws Exception {
        client.call("admin.vm.feature.Set", "gui", "work", "1");
        client.call("admin.vm.feature.Set", "empty", "work", "");
        assertEquals("1", client.call("admin.vm.feature.Get", "gui", "work", ""));
        assertEquals("", client.call("admin.vm.feature.Get", "empty", "work", ""), "present but empty");
        assertTrue(client.call("admin.vm.feature.List", "", "work", "").contains("empty\n"));
        client.call("admin.vm.feature.Remove", "gui", "work", "");
        assertEquals("QubesFeatureNotFoundError", error("admin.vm.feature.Get", "gui", "work", "").type());
        assertEquals("QubesFeatureNotFoundError", error("admin.vm.feature.Remove", "gui", "work", "").type());
        client.call("admin.vm.tag.Set", "project-x", "work", "");
        assertEquals("1", client.call("admin.vm.tag.Get", "project-x", "work", ""));
        assertEquals("project-x\n", client.call("admin.vm.tag.List", "", "work", ""));
        client.call("admin.vm.tag.Remove", "project-x", "work", "");
        assertEquals("0", client.call("admin.vm.tag.Get", "project-x", "work", ""));
        assertEquals("QubesTagNotFoundError", error("admin.vm.tag.Remove", "project-x", "work", "").type());
    }

    @Test
    void volumesAndPools() throws Exception {
        assertEquals("kernel\nprivate\nroot\nvolatile\n", client.call("admin.vm.volume.List", "", "work", ""));
        String info = client.call("admin.vm.volume.Info", "root", "work", "");
        assertTrue(info.startsWith("pool=varlibqubes\nvid=work/root\n"), info);
        assertTrue(info.contains("source=fedora:root\n") && info.contains("snap_on_start=True\n")
                && info.contains("save_on_stop=False\n") && info.contains("is_outdated=False\n"), info);
        client.call("admin.vm.volume.Resize", "private", "work", Long.toString(4L << 30));
        assertTrue(client.call("admin.vm.volume.Info", "private", "work", "").contains("size=" + (4L << 30) + "\n"));
        assertEquals("QubesValueError", error("admin.vm.volume.Resize", "private", "work", "1").type(), "no shrink");
        assertEquals("QubesValueError", error("admin.vm.volume.Resize", "private", "work", "-5").type());
        assertEquals("QubesValueError", error("admin.vm.volume.Info", "nope", "work", "").type());
        assertEquals("linux-kernel\nvarlibqubes\n", client.call("admin.pool.List", "", "dom0", ""));
    }

    @Test
    void powerOperationsAndDisposables() throws Exception {
        client.call("admin.vm.Start", "", "work", "");
        awaitState("work", "Running");
        client.call("admin.vm.Pause", "", "work", "");
        awaitState("work", "Paused");
        client.call("admin.vm.Unpause", "", "work", "");
        awaitState("work", "Running");
        client.call("admin.vm.Kill", "", "work", "");
        awaitState("work", "Halted");
        assertEquals("QubesVMError", error("admin.vm.Kill", "", "work", "").type());

        String disp = client.call("admin.vm.CreateDisposable", "", "dvm", "");
        assertTrue(disp.matches("disp[0-9]+"), disp);
        awaitState(disp, "Running");
        client.call("admin.vm.Kill", "", disp, "");
        await().atMost(Duration.ofSeconds(10)).until(() -> !client.call("admin.vm.List", "", "dom0", "").contains(disp));
        String uuid = client.call("admin.vm.CreateDisposable", "", "dvm", "uuid");
        assertTrue(uuid.matches("uuid:[0-9a-f-]{36}"), uuid);
        assertEquals("QubesValueError", error("admin.vm.CreateDisposable", "", "work", "").type());
        assertEquals("QubesValueError", error("admin.vm.CreateDisposable", "", "dvm", "bogus").type());

        client.call("admin.vm.Remove", "", "work", "");
        assertEquals("QubesVMNotFoundError", error("admin.vm.List", "", "work", "").type());
    }

    void awaitState(String qube, String state) {
        await().atMost(Duration.ofSeconds(10)).until(() -> client.call("admin.vm.List", "", qube, "")
                .equals(qube + " class=" + (qube.startsWith("disp") ? "DispVM" : "AppVM") + " state=" + state + "\n"));
    }

    @Test
    void preloadQueuesAndSystemInfo() throws Exception {
        client.call("admin.vm.feature.Set", "preload-dispvm-max", "dvm", "2");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                client.call("internal.dispvm.PreloadQueues", "", "dom0", "").matches("(?s)dvm max=2 global=False ready=disp\\d+,disp\\d+ .*"));
        String info = client.call("internal.GetSystemInfo", "", "dom0", "");
        assertTrue(info.contains("\"work\""), info);
        assertEquals("ProtocolError", error("internal.GetSystemInfo", "", "work", "").type());
    }

    @Test
    void badRequestsGetErrorsAndTheServerKeepsWorking() throws Exception {
        assertEquals("ProtocolError", error("admin.vm.Frobnicate", "", "dom0", "").type());
        assertEquals("ProtocolError", error("admin.vm.List", "arg", "dom0", "").type());
        assertEquals("ProtocolError", error("admin.vm.Start", "", "work", "payload").type());
        byte[] noNul = rawSend("admin.vm.List dom0 dom0".getBytes());
        assertEquals("ProtocolError", AdminResponse.parse(noNul).errorType());
        byte[] big = new byte[AdminRequest.MAX_BYTES + 10];
        assertEquals("ProtocolError", AdminResponse.parse(rawSend(big)).errorType());
        AdminResponse.Reply foreign = AdminResponse.parse(client.raw(new AdminRequest("admin.vm.List", "", "work",
                "dom0", new byte[0])));
        assertEquals("PermissionDenied", foreign.errorType());
        assertTrue(client.call("admin.vm.List", "", "dom0", "").contains("work"));
    }

    /** Sends raw bytes, half-closes, returns the reply. */
    byte[] rawSend(byte[] bytes) throws Exception {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(server.path()));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            try {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.shutdownOutput();
            } catch (java.io.IOException e) {
                // The server may answer and close before it has read an oversize request.
            }
            return java.nio.channels.Channels.newInputStream(ch).readAllBytes();
        }
    }

    @Test
    void eventsStreamRegistryChanges() throws Exception {
        List<AdminClient.Event> events = new CopyOnWriteArrayList<>();
        Thread listener = new Thread(() -> {
            try {
                client.events("dom0", e -> {
                    events.add(e);
                    return events.size() < 2;
                });
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        listener.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !events.isEmpty());
        assertEquals("connection-established", events.get(0).name());
        client.call("admin.vm.Create.AppVM", "fedora", "dom0", "name=other label=red");
        listener.join(TimeUnit.SECONDS.toMillis(10));
        assertEquals("qube-created", events.get(1).name());
        assertEquals("other", events.get(1).subject());
    }

    @Test
    void peerOfAnotherUserIsRefusedBySoPeercred() throws Exception {
        Assumptions.assumeTrue(AdminAccess.currentUid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv"))
                && Files.isExecutable(Path.of("/usr/bin/python3")), "needs root, setpriv and python3");
        // Open the file system gate on purpose: the SO_PEERCRED check must still refuse.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(server.path(), PosixFilePermissions.fromString("rw-rw-rw-"));
        String script = "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX)\n"
                + "s.connect(sys.argv[1])\n"
                + "s.sendall(b'admin.vm.List dom0 dom0\\0')\n"
                + "s.shutdown(socket.SHUT_WR)\n"
                + "d=b''\n"
                + "while True:\n"
                + "    c=s.recv(4096)\n"
                + "    if not c: break\n"
                + "    d+=c\n"
                + "sys.stdout.write(d.decode().replace('\\0','|'))\n";
        Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "/usr/bin/python3", "-c", script, server.path().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.startsWith("2|PermissionDenied||uid 65534 may not use the admin socket|"), out);
    }
}
