package dev.qrexec.tests.e2e;

import dev.qrexec.broker.demo.Leftovers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code qrexec serve --demo-system} as a real process: it comes up, answers on its policy.sock with
 * the example policy, and a SIGTERM stops it with nothing left behind (the shutdown hook waits for
 * the system to close before the JVM exits).
 */
@Timeout(180)
class ServeDemoSystemTest {

    @Test
    void servesTheDemoSystemUntilSigtermAndLeavesNothing() throws Exception {
        Path stateDir = Files.createTempDirectory(Path.of("/tmp"), "qst");
        Path log = Files.createTempFile("serve-demo-system", ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process serve = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.qrexec.broker.cli.Main", "serve", "--demo-system", "--state-dir", stateDir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.readString(log).contains("qrexec serve: ready") || !serve.isAlive());
            String started = Files.readString(log);
            assertTrue(serve.isAlive(), started);
            if (SandboxRequirement.required()) {
                assertTrue(started.contains("backend: sandbox"), started);
            }

            String reply = ask(stateDir.resolve("run/policy.sock"),
                    "source=work\nintended_target=@dispvm\nservice_and_arg=qubes.OpenURL+\n\n");
            assertTrue(reply.contains("result=allow") && reply.contains("target=@dispvm:default-dvm"), reply);
        } finally {
            serve.destroy(); // SIGTERM
            assertTrue(serve.waitFor(90, TimeUnit.SECONDS), "serve did not stop on SIGTERM:\n" + Files.readString(log));
        }
        assertEquals(List.of(), Leftovers.find(stateDir, instanceOf(stateDir), Path.of("/sys/fs/cgroup")),
                Files.readString(log));
        Leftovers.deleteTree(stateDir);
        Files.deleteIfExists(log);
    }

    /** The backend instance DemoSystem derives from its state directory (one per directory). */
    private static String instanceOf(Path stateDir) {
        return "qd" + Integer.toHexString(stateDir.toString().hashCode());
    }

    private static String ask(Path socket, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer in = ByteBuffer.allocate(4096);
            while (ch.read(in) >= 0) {
                if (!in.hasRemaining()) {
                    break;
                }
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
        }
    }
}
