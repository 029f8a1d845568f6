package dev.qrexec.policy.cli;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonCommandTest {

    @TempDir
    Path tmp;

    private static String exchange(Path socket, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(1024);
            while (ch.read(in) >= 0) {
                got.write(in.array(), 0, in.position());
                in.clear();
            }
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    private static String exchangeHalfClosed(Path socket, String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            ch.shutdownOutput();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(1024);
            while (ch.read(in) >= 0) {
                got.write(in.array(), 0, in.position());
                in.clear();
            }
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    @Test
    void servesUntilInterruptedThenRemovesItsSocket() throws Exception {
        Path system = write(tmp.resolve("system.json"), Fixtures.SYSTEM_JSON);
        write(tmp.resolve("d/30-user.policy"), "qubes.Filecopy * work vault allow\n");
        Path socket = tmp.resolve("policy.sock");
        Path evalSocket = tmp.resolve("policy.EvalSimple");
        StringWriter err = new StringWriter();
        AtomicInteger exit = new AtomicInteger(-1);
        Thread daemon = new Thread(() -> exit.set(PolicyCli.execute(System.in, new PrintWriter(new StringWriter()),
                new PrintWriter(err, true), "daemon", "--socket", socket.toString(), "--system-info", system.toString(),
                "--policy-dir", tmp.resolve("d").toString(), "--legacy-dir", tmp.resolve("legacy").toString(),
                "--workers", "1", "--eval-socket", evalSocket.toString())));
        daemon.start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
            String request = "source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x\njust_evaluate=yes\n\n";
            assertEquals("result=allow", exchange(socket, request));
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(evalSocket, LinkOption.NOFOLLOW_LINKS));
            assertEquals("result=allow\n", exchangeHalfClosed(evalSocket, "policy.EvalSimple+qubes.Filecopy dom0\0work\0vault"));

            write(tmp.resolve("d/20-deny.policy"), "* * @anyvm vault deny\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> exchange(socket, request).equals("result=deny"));
            assertTrue(err.toString().contains("serving " + socket), err.toString());
        } finally {
            daemon.interrupt();
            daemon.join(10_000);
        }
        assertFalse(daemon.isAlive());
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket is removed on stop");
        assertFalse(Files.exists(evalSocket, LinkOption.NOFOLLOW_LINKS));
    }
}
