package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A qube runs the probe (a JVM inside the sandbox) and reports what it can reach: nothing of the
 * host but its template, storage, tmpfs and own channel directory.
 */
class SandboxIsolationTest {

    @TempDir
    Path dir;
    private SandboxHypervisor hypervisor;
    private final EventRecorder events = new EventRecorder();

    @BeforeEach
    void open() throws IOException {
        SandboxFixture.makeTraversable(dir);
        hypervisor = SandboxFixture.open(SandboxFixture.config(dir, SandboxFixture.uniqueInstance("iso")).build());
        hypervisor.subscribe(events);
    }

    @AfterEach
    void close() {
        SandboxFixture.closeKillingAll(hypervisor);
    }

    @Test
    void qubeSeesOnlyWhatItWasGiven() throws Exception {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "host secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--")); // readable by anyone on the host
        Path otherChannel = Files.createDirectories(dir.resolve("ch-other"));
        Path ownChannel = Files.createDirectories(dir.resolve("ch-iso"));
        try (ServerSocket tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocketChannel other = listen(otherChannel.resolve("vchan.7.0.512.sock"));
             ServerSocketChannel own = listen(ownChannel.resolve("vchan.0.8.512.sock"))) {
            try (Socket control = new Socket(InetAddress.getLoopbackAddress(), tcp.getLocalPort())) {
                assertTrue(control.isConnected(), "the host's loopback server works from the host");
            }
            QubeSpec spec = SandboxFixture.spec(dir, SandboxFixture.templateRoot(), "iso", 8)
                    .channelDir(ownChannel)
                    .init(SandboxFixture.probeInit("isolation", Integer.toString(tcp.getLocalPort()),
                            secret.toString(), "/root", "/etc/shadow", dir.resolve("state").toString(),
                            otherChannel.resolve("vchan.7.0.512.sock").toString(),
                            "/run/vchan/vchan.0.8.512.sock"))
                    .build();
            hypervisor.define(spec).get();
            hypervisor.start("iso").get();
            events.awaitKinds("iso", Duration.ofSeconds(60), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.DIED);
        }
        Map<String, String> seen = probeOutput("iso");
        assertEquals("yes", seen.get("done"), () -> "probe did not finish: " + seen);
        assertEquals("1000", seen.get("uid"), "runs as user 1000 inside");
        assertEquals("0000000000000000", seen.get("capeff"), "no capabilities");
        assertEquals("lo", seen.get("ifaces"), "no network interface but loopback");
        assertTrue(seen.get("tcp").startsWith("failed"), () -> "reached the host's loopback: " + seen.get("tcp"));
        assertEquals("absent", seen.get("read:" + secret), "a host file outside what was given");
        assertTrue(seen.get("pid1").startsWith("READ:"), () -> "pid 1 is readable: " + seen.get("pid1"));
        for (String hostPath : List.of(dir.resolve("private-iso").toString(), ownChannel.toString(), "--bind")) {
            assertFalse(seen.get("pid1").contains(hostPath), () -> "the mounts leak through /proc/1/cmdline: "
                    + seen.get("pid1"));
        }
        assertEquals("absent", seen.get("read:/root"));
        assertEquals("absent", seen.get("read:/etc/shadow"));
        assertEquals("absent", seen.get("read:" + dir.resolve("state")), "the backend's state");
        assertTrue(seen.get("unix:" + otherChannel.resolve("vchan.7.0.512.sock")).startsWith("failed"),
                "another qube's channel socket");
        assertEquals("CONNECTED", seen.get("unix:/run/vchan/vchan.0.8.512.sock"), "its own channel socket");
        assertTrue(seen.get("write:/").startsWith("failed"), "root is read-only");
        assertTrue(seen.get("write:/usr").startsWith("failed"), "template is read-only");
        assertEquals("WROTE", seen.get("write:/tmp"), "volatile tmpfs is writable");
        assertEquals("WROTE", seen.get("write:/home/user"), "home is writable");
        Path written = dir.resolve("private-iso/home/user/probe-was-here");
        assertTrue(Files.exists(written), "home is the private storage");
        assertEquals(hypervisor.hostUid(hypervisor.spec("iso")), PrivateStorage.ownerUid(written), "owned by the qube's host uid");
        assertFalse(Files.exists(Path.of("/probe-was-here")));
        assertTrue(hypervisor.hostUid(hypervisor.spec("iso")) >= 200_000, "never host root");
    }

    private static ServerSocketChannel listen(Path path) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
        return server;
    }

    private Map<String, String> probeOutput(String qube) throws IOException {
        Map<String, String> seen = new HashMap<>();
        List<String> lines = Files.readAllLines(hypervisor.config().stateDir().resolve(qube).resolve("console.log"));
        for (String line : lines) {
            int eq = line.lastIndexOf('=');
            if (eq > 0) {
                seen.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return seen;
    }
}
