package dev.qrexec.policy.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server over a real Unix socket, with a responder that echoes what it was asked. */
class PolicySocketServerTest {

    private static final String ALLOW = "user=DEFAULT\nresult=allow\ntarget=vault\n"
            + "target_uuid=uuid:b3eb69d0-f9d9-4c3c-ad5c-454500303ea4\nautostart=True\nrequested_target=vault";

    @TempDir
    Path dir;

    private final List<SocketRequest> seen = new CopyOnWriteArrayList<>();

    private PolicySocketServer start() throws IOException {
        return PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .workerThreads(1)
                .responder(r -> {
                    seen.add(r);
                    return r.intendedTarget().equals("vault") ? ALLOW : "result=deny";
                })
                .start();
    }

    @Test
    void answersAllowAndDenyByteForByte() throws IOException {
        try (PolicySocketServer server = start()) {
            assertEquals(ALLOW, UnixClient.exchange(server.path(),
                    "source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x\n\n"));
            assertEquals("result=deny", UnixClient.exchange(server.path(),
                    "source=work\nintended_target=personal\nservice_and_arg=qubes.Filecopy\n"
                            + "assume_yes_for_ask=yes\njust_evaluate=no\nrequested_source=\n\n"));
            assertEquals(List.of(
                    new SocketRequest("work", "vault", "qubes.Filecopy+x", "", false, false),
                    new SocketRequest("work", "personal", "qubes.Filecopy", "", true, false)), seen);
        }
    }

    @Test
    void requestEndedByEofStillGetsItsReply() throws IOException {
        try (PolicySocketServer server = start()) {
            assertEquals(ALLOW, UnixClient.exchange(server.path(),
                    "source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x", true));
        }
    }

    @Test
    void malformedRequestsAreClosedWithoutReply() throws IOException {
        String ok = "source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x\n";
        try (PolicySocketServer server = start()) {
            for (String bad : List.of(
                    ok + "domain_id=3\n\n",                          // dropped key, rejected on purpose
                    ok + "process_ident=1\n\n",
                    ok + "source=work\n\n",                          // duplicate
                    ok + "just_evaluate=true\n\n",                   // bad boolean
                    "source=work\nservice_and_arg=s\n\n",            // missing key
                    ok + "garbage\n\n",                              // no '='
                    "source=w\u00f6rk\nintended_target=vault\nservice_and_arg=s\n\n", // non-ASCII
                    "\n")) {                                          // empty request
                assertEquals("", UnixClient.exchange(server.path(), bad), () -> "reply to " + bad);
            }
            assertTrue(seen.isEmpty(), "the responder is never asked about a malformed request");
        }
    }

    @Test
    void tooLongLineIsClosedWithoutReply() throws IOException {
        try (PolicySocketServer server = start()) {
            String huge = "source=" + "a".repeat(PolicyRequestParser.MAX_LINE_LENGTH + 10) + "\n\n";
            assertEquals("", UnixClient.exchange(server.path(), huge));
        }
    }

    @Test
    void socketHasMode0660AndIsRemovedOnClose() throws IOException {
        Path socket;
        try (PolicySocketServer server = start()) {
            socket = server.path();
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            try (var files = Files.list(dir)) {
                assertEquals(List.of(socket), files.toList(), "no temporary bind name is left behind");
            }
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void replacesAStaleSocketButNeverAFile() throws IOException {
        Path socket = dir.resolve("policy.sock");
        try (SocketChannel stale = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket));
        }
        try (PolicySocketServer server = start()) {
            assertEquals(ALLOW, UnixClient.exchange(server.path(),
                    "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
        }
        Files.writeString(socket, "not a socket");
        AccessDeniedException e = assertThrows(AccessDeniedException.class, () -> start());
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertEquals("not a socket", Files.readString(socket));
    }

    @Test
    void idleConnectionIsClosedAfterTheReadTimeout() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> ALLOW)
                .readTimeout(Duration.ofMillis(200))
                .start();
             SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(server.path()));
            ch.write(ByteBuffer.wrap("source=work\n".getBytes(StandardCharsets.US_ASCII)));
            assertEquals("", UnixClient.readToEof(ch));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        }
    }

    @Test
    void silentClientsDoNotHoldUpTheOthersAndTheirThreadsRetire() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> ALLOW)
                .readTimeout(Duration.ofMinutes(5))
                .start()) {
            List<SocketChannel> silent = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(server.path()));
                    silent.add(ch);
                }
                // Answered long before the silent ones' deadline: threads are added while they hold theirs.
                assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                    for (int i = 0; i < 6; i++) {
                        assertEquals(ALLOW, UnixClient.exchange(server.path(),
                                "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
                    }
                });
                await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 6);
                assertTrue(server.servingThreads() >= 7, "one per silent client and one accepting: " + server.servingThreads());
                assertTrue(server.threadsAdded() >= 6, "added while the silent ones held theirs: " + server.threadsAdded());
            } finally {
                for (SocketChannel ch : silent) {
                    ch.close();
                }
            }
            // Their clients gave up: the extra threads end, the one of the core stays.
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0 && server.servingThreads() == 1);
            assertEquals(ALLOW, UnixClient.exchange(server.path(), "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
        }
    }

    @Test
    void closeAbortsAConnectionBlockedInReadAndRemovesTheSocket() throws IOException {
        PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> ALLOW)
                .readTimeout(Duration.ofMinutes(5))
                .start();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(server.path()));
            ch.write(ByteBuffer.wrap("source=work\n".getBytes(StandardCharsets.US_ASCII)));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 1);
            assertTimeoutPreemptively(Duration.ofSeconds(10), server::close);
            assertEquals("", UnixClient.readToEof(ch));
            assertEquals(0, server.openConnections());
            assertEquals(0, server.servingThreads());
            assertFalse(Files.exists(dir.resolve("policy.sock"), LinkOption.NOFOLLOW_LINKS));
        }
        server.close();
    }

    @Test
    void severalCoreThreadsServeConcurrentClients() throws Exception {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> r.source().equals("work") ? ALLOW : "result=deny")
                .workerThreads(3)
                .start()) {
            assertEquals(3, server.servingThreads());
            List<Thread> clients = new ArrayList<>();
            List<String> failures = new CopyOnWriteArrayList<>();
            for (int c = 0; c < 4; c++) {
                String source = c % 2 == 0 ? "work" : "other";
                String expected = c % 2 == 0 ? ALLOW : "result=deny";
                Thread t = new Thread(() -> {
                    for (int i = 0; i < 200; i++) {
                        try {
                            String got = UnixClient.exchange(server.path(),
                                    "source=" + source + "\nintended_target=vault\nservice_and_arg=s\n\n");
                            if (!got.equals(expected)) {
                                failures.add(source + " got " + got);
                            }
                        } catch (IOException e) {
                            failures.add(e.toString());
                        }
                    }
                });
                clients.add(t);
                t.start();
            }
            for (Thread t : clients) {
                t.join(30_000);
            }
            assertEquals(List.of(), failures);
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
        }
    }

    @Test
    void connectionsBeyondTheLimitAreClosed() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> ALLOW)
                .maxConnections(2)
                .start()) {
            List<SocketChannel> held = new ArrayList<>();
            try {
                for (int i = 0; i < 2; i++) {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    ch.connect(UnixDomainSocketAddress.of(server.path()));
                    held.add(ch);
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
                assertEquals("", UnixClient.exchange(server.path(),
                        "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
            } finally {
                for (SocketChannel ch : held) {
                    ch.close();
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0);
            assertEquals(ALLOW, UnixClient.exchange(server.path(),
                    "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
        }
    }

    @Test
    void clientsThatHangUpAtOnceLeaveNothingBehind() throws IOException {
        try (PolicySocketServer server = start()) {
            for (int i = 0; i < 50; i++) {
                SocketChannel.open(UnixDomainSocketAddress.of(server.path())).close();
            }
            try (SocketChannel flood = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
                // Garbage without a newline: refused at the line limit, without buffering the rest.
                ByteBuffer junk = ByteBuffer.wrap(new byte[PolicyRequestParser.MAX_LINE_LENGTH + 1000]);
                try {
                    while (junk.hasRemaining()) {
                        flood.write(junk);
                    }
                } catch (IOException e) {
                    // The server may close first.
                }
                assertEquals("", UnixClient.readToEof(flood));
            }
            assertEquals(ALLOW, UnixClient.exchange(server.path(), "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0 && server.servingThreads() == 1);
            assertTrue(seen.size() == 1, "only the real request reached the responder: " + seen);
        }
    }

    @Test
    void anIdleServersWatchdogWaitsWithoutATimerAndStillTimesTheNextConnection() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .responder(r -> ALLOW)
                .readTimeout(Duration.ofMillis(200))
                .start()) {
            assertEquals(ALLOW, UnixClient.exchange(server.path(), "source=work\nintended_target=vault\nservice_and_arg=s\n\n"));
            // No connection open: parked until a serving thread wakes it (no periodic wake-ups).
            await().atMost(Duration.ofSeconds(5)).until(() -> server.watchdogState() == Thread.State.WAITING);
            try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
                assertEquals("", UnixClient.readToEof(silent), "closed at its deadline");
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 0
                    && server.watchdogState() == Thread.State.WAITING);
        }
    }

    @Test
    void anAsynchronousReplyOutlivesTheReadDeadlineWhileOthersAreServed() throws Exception {
        CompletableFuture<String> userAnswer = new CompletableFuture<>();
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .asyncResponder(r -> r.intendedTarget().equals("ask") ? userAnswer
                        : CompletableFuture.completedFuture("result=deny"))
                .readTimeout(Duration.ofMillis(100))
                .start()) {
            CompletableFuture<String> asked = CompletableFuture.supplyAsync(() -> {
                try {
                    return UnixClient.exchange(server.path(), "source=work\nintended_target=ask\nservice_and_arg=s\n\n");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 1);
            // Others are answered meanwhile, and the pending one survives several read deadlines.
            for (int i = 0; i < 5; i++) {
                assertEquals("result=deny", UnixClient.exchange(server.path(), "source=work\nintended_target=x\nservice_and_arg=s\n\n"));
            }
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertFalse(asked.isDone(), "still waiting for the user");
            userAnswer.complete(ALLOW);
            assertEquals(ALLOW, asked.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void anAsynchronousReplyThatNeverComesIsADenyAfterTheReplyTimeout() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .asyncResponder(r -> new CompletableFuture<>())
                .replyTimeout(Duration.ofMillis(200))
                .start()) {
            assertEquals("result=deny", UnixClient.exchange(server.path(), "source=work\nintended_target=x\nservice_and_arg=s\n\n"));
        }
    }

    @Test
    void closeEndsAThreadWaitingForAnAsynchronousReply() throws IOException {
        PolicySocketServer server = PolicySocketServer.builder()
                .socket(dir.resolve("policy.sock"))
                .asyncResponder(r -> new CompletableFuture<>())
                .start();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(server.path()))) {
            ch.write(ByteBuffer.wrap("source=work\nintended_target=x\nservice_and_arg=s\n\n".getBytes(StandardCharsets.US_ASCII)));
            await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 1);
            assertTimeoutPreemptively(Duration.ofSeconds(10), server::close);
            assertEquals(0, server.servingThreads());
            assertEquals("", UnixClient.readToEof(ch));
        }
    }

    @Test
    void builderValidatesItsArguments() {
        var b = PolicySocketServer.builder();
        assertEquals("workerThreads must be at least 1, was 0",
                assertThrows(IllegalArgumentException.class, () -> b.workerThreads(0)).getMessage());
        assertEquals("maxConnections must be at least 1, was -1",
                assertThrows(IllegalArgumentException.class, () -> b.maxConnections(-1)).getMessage());
        assertEquals("readTimeout must be positive, was PT0S",
                assertThrows(IllegalArgumentException.class, () -> b.readTimeout(Duration.ZERO)).getMessage());
        assertEquals("replyTimeout must be positive, was PT-1S",
                assertThrows(IllegalArgumentException.class, () -> b.replyTimeout(Duration.ofSeconds(-1))).getMessage());
        assertEquals("socket path not set", assertThrows(IllegalStateException.class, b::start).getMessage());
        var tooMany = PolicySocketServer.builder().socket(dir.resolve("y.sock")).responder(r -> "")
                .workerThreads(4).maxConnections(3);
        assertEquals("workerThreads (4) exceeds maxConnections (3): threads beyond the limit could only refuse connections",
                assertThrows(IllegalStateException.class, tooMany::start).getMessage());
        b.socket(dir.resolve("x.sock"));
        assertEquals("responder not set (or asyncResponder, or evalService)",
                assertThrows(IllegalStateException.class, b::start).getMessage());
        b.responder(r -> "").socket(dir.resolve("d".repeat(120) + ".sock"));
        IOException e = assertThrows(IOException.class, b::start);
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
    }
}
