package dev.qrexec.broker.agent;

import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code exit-on-client-eof} and {@code exit-on-service-eof} (spec qrexec-wire.md 7.2): when the
 * call of a socket service ends, and that an executable service ignores both keys.
 */
class ServiceEofConfigTest {

    private static final Duration QUIET = Duration.ofMillis(300);

    @TempDir
    Path tmp;
    AgentHarness h;
    RawPeer daemon;
    int port = 900;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(tmp, Map.of());
        daemon = h.daemon();
    }

    @AfterEach
    void stop() throws Exception {
        daemon.close();
        h.close();
    }

    /** A socket service in the service path; the test plays the service on the accepted connection. */
    private ServerSocketChannel socketService(String name, String config) throws IOException {
        if (config != null) {
            Files.writeString(h.rpcConfig.resolve(name), config);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(h.rpc.resolve(name)));
        return server;
    }

    /** Starts a call without sending stdin EOF, so the test decides when the caller's input ends. */
    private RawPeer open(String cmdline) throws Exception {
        int p = port++;
        try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, p))) {
            AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, p, cmdline);
            RawPeer data = l.accept();
            data.sendHello(4);
            data.expect(RawPeer.HELLO);
            return data;
        }
    }

    /** Reads the service side's frames up to the exit code; returns stdout. */
    private static String stdoutUntilExit(RawPeer data, int expectedExit) throws InterruptedException {
        AgentHarness.Result r = AgentHarness.collect(data);
        assertEquals(expectedExit, r.exit());
        assertTrue(r.stdoutEof(), "STDOUT EOF before the exit code");
        assertTrue(r.stderrEof(), "STDERR EOF before the exit code");
        return r.out();
    }

    private static void assertNoExitCodeYet(RawPeer data) throws InterruptedException {
        while (true) {
            RawPeer.Frame f;
            try {
                f = data.read(QUIET);
            } catch (AssertionError nothingMore) {
                return;
            }
            assertNotEquals(RawPeer.DATA_EXIT_CODE, f.type(), "the call ended early: " + f);
            assertNotEquals(-1, f.type(), "the agent hung up early");
        }
    }

    @Test
    void bySocketServiceDefaultTheCallWaitsForTheCallersEofAfterTheServiceClosedItsOutput() throws Exception {
        try (ServerSocketChannel server = socketService("test.Half", null);
             RawPeer data = open("user:QUBESRPC test.Half vm9")) {
            SocketChannel svc = server.accept();
            svc.write(ByteBuffer.wrap("half".getBytes(StandardCharsets.UTF_8)));
            svc.shutdownOutput();
            assertNoExitCodeYet(data);
            data.send(RawPeer.DATA_STDIN, "more".getBytes(StandardCharsets.UTF_8));
            data.send(RawPeer.DATA_STDIN, new byte[0]);
            assertEquals("test.Half vm9\0more", readAll(svc), "input after the service's EOF still delivered");
            svc.close();
            assertEquals(0, AgentHarness.collect(data).exit());
        }
    }

    @Test
    void exitOnServiceEofEndsTheCallWhenTheServiceClosesItsOutputWhileTheCallerStillSends() throws Exception {
        try (ServerSocketChannel server = socketService("test.Quick", "exit-on-service-eof = true\n");
             RawPeer data = open("user:QUBESRPC test.Quick vm9")) {
            SocketChannel svc = server.accept();
            data.send(RawPeer.DATA_STDIN, "never ending".getBytes(StandardCharsets.UTF_8));
            svc.write(ByteBuffer.wrap("answer".getBytes(StandardCharsets.UTF_8)));
            svc.shutdownOutput();
            // No stdin EOF from the caller: the exit code comes anyway.
            assertEquals("answer", stdoutUntilExit(data, 0));
            svc.close();
        }
    }

    @Test
    void exitOnClientEofClosesTheServiceOnceTheCallersInputIsDeliveredAndEndsTheCall() throws Exception {
        try (ServerSocketChannel server = socketService("test.Listen", "exit-on-client-eof = true\n"
                + "skip-service-descriptor = true\n");
             RawPeer data = open("user:QUBESRPC test.Listen vm9")) {
            SocketChannel svc = server.accept();
            data.send(RawPeer.DATA_STDIN, "last words".getBytes(StandardCharsets.UTF_8));
            data.send(RawPeer.DATA_STDIN, new byte[0]);
            // The service never closes its side; the agent does.
            assertEquals(0, AgentHarness.collect(data).exit());
            assertEquals("last words", readAll(svc), "input delivered, then the connection closed");
            svc.close();
        }
    }

    @Test
    void withoutExitOnClientEofAServiceThatKeepsItsOutputOpenKeepsTheCallOpen() throws Exception {
        try (ServerSocketChannel server = socketService("test.Listen2", "skip-service-descriptor = true\n");
             RawPeer data = open("user:QUBESRPC test.Listen2 vm9")) {
            SocketChannel svc = server.accept();
            data.send(RawPeer.DATA_STDIN, "x".getBytes(StandardCharsets.UTF_8));
            data.send(RawPeer.DATA_STDIN, new byte[0]);
            assertEquals("x", readAll(svc));
            assertNoExitCodeYet(data);
            svc.write(ByteBuffer.wrap("late".getBytes(StandardCharsets.UTF_8)));
            svc.close();
            AgentHarness.Result r = AgentHarness.collect(data);
            assertEquals(0, r.exit());
            assertEquals("late", r.out());
        }
    }

    @Test
    void anExecutableServiceIgnoresBothKeys() throws Exception {
        h.service("test.Script", "#!/bin/sh\ncat >/dev/null\necho after-eof\nexit 5\n");
        Files.writeString(h.rpcConfig.resolve("test.Script"), "exit-on-client-eof = true\nexit-on-service-eof = true\n");
        try (RawPeer data = h.call(daemon, port++, "user:QUBESRPC test.Script vm9", "in".getBytes())) {
            assertEquals("after-eof\n", stdoutUntilExit(data, 5));
        }
    }

    /** Everything the agent writes to the service until it closes or half-closes the connection. */
    private static String readAll(SocketChannel svc) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(4096);
            try {
                while (svc.read(buf.clear()) >= 0) {
                    all.write(buf.array(), 0, buf.position());
                }
            } catch (IOException e) {
                // closed by the agent: what came so far is the answer
            }
            return all.toString(StandardCharsets.UTF_8);
        }).get(10, TimeUnit.SECONDS);
    }
}
