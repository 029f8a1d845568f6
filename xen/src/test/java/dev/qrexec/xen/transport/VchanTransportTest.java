package dev.qrexec.xen.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.Epoll;
import io.netty.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transport over real Unix sockets, on every Netty transport this machine offers. */
class VchanTransportTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final List<VchanTransport> transports = new ArrayList<>();

    static Stream<Arguments> kinds() {
        return Epoll.isAvailable()
                ? Stream.of(Arguments.of(VchanTransport.Kind.EPOLL), Arguments.of(VchanTransport.Kind.NIO))
                : Stream.of(Arguments.of(VchanTransport.Kind.NIO));
    }

    @AfterEach
    void closeTransports() {
        transports.forEach(VchanTransport::close);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void bytesGoAcrossAndBack(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = VchanAddress.listening(dir, 42, 0, 512);
        Future<Channel> server = transport.listen(address, new Echo());
        Collector received = new Collector();
        Channel client = connected(transport.connect(VchanAddress.connecting(dir, 0, 42, 512), received, WAIT));
        byte[] payload = new byte[200_000];
        new Random(7).nextBytes(payload);
        client.writeAndFlush(Unpooled.wrappedBuffer(payload));
        await().atMost(WAIT).until(() -> received.size() == payload.length);
        assertArrayEquals(payload, received.bytes());
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS) && server.isSuccess());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aListenerSaysWhenItIsBoundSoTheFirstConnectNeedsNoRetry(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 0, 42, 700);
        VchanListener listener = transport.openListener(address, new Echo(), null);
        assertTrue(listener.bound().await(WAIT.toMillis(), TimeUnit.MILLISECONDS) && listener.bound().isSuccess());
        assertTrue(Files.exists(address.path()));
        connected(transport.connect(address, new Collector(), WAIT));
        assertEquals(0, transport.failedConnectAttempts());
        assertTrue(listener.accepted().await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aListenerThatCannotBindFailsBothFutures(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir.resolve("missing"), 0, 42, 701);
        VchanListener listener = transport.openListener(address, new Echo(), null);
        assertTrue(listener.bound().await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        VchanConnectException error = assertInstanceOf(VchanConnectException.class, listener.bound().cause());
        assertTrue(error.getMessage().startsWith("cannot listen on " + address.path()), error.getMessage());
        assertTrue(listener.accepted().isDone() && !listener.accepted().isSuccess());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void theServerAcceptsOneConnectionOnly(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 42, 0, 513);
        Future<Channel> server = transport.listen(address, new Echo());
        Collector first = new Collector();
        Channel client = connected(transport.connect(address, first, WAIT));
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS) && server.isSuccess());
        await().atMost(WAIT).until(() -> !Files.exists(address.path()));

        Future<Channel> second = transport.connect(address, new Collector(), Duration.ofMillis(200));
        assertTrue(second.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertInstanceOf(VchanConnectException.Timeout.class, second.cause());

        client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        await().atMost(WAIT).until(() -> first.size() == 3);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void ofClientsRacingForOneListenerExactlyOneStaysConnected(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 42, 0, 517);
        Future<Channel> server = transport.listen(address, new Echo());
        List<Future<Channel>> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(transport.connect(address, new Collector(), Duration.ofMillis(300)));
        }
        for (Future<Channel> client : clients) {
            assertTrue(client.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        }
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS) && server.isSuccess());
        // A loser either never got in (timeout) or was let in by the backlog and closed at once.
        await().atMost(WAIT).until(() -> clients.stream()
                .filter(c -> c.isSuccess() && c.getNow().isActive()).count() == 1);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void theClientRetriesUntilTheListenerAppears(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 7, 0, 514);
        Collector received = new Collector();
        Future<Channel> client = transport.connect(address, received, WAIT);
        await().atMost(WAIT).until(() -> transport.failedConnectAttempts() >= 3);
        assertFalse(client.isDone());

        transport.listen(address, new Echo());
        Channel channel = connected(client);
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {9}));
        await().atMost(WAIT).until(() -> received.size() == 1);
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void theClientGivesUpAfterItsTimeoutWithAClearError(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 7, 0, 515);
        Future<Channel> client = transport.connect(address, new Collector(), Duration.ofMillis(150));
        assertTrue(client.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        VchanConnectException.Timeout error = assertInstanceOf(VchanConnectException.Timeout.class, client.cause());
        assertTrue(error.getMessage().startsWith("nobody listens on " + address.path() + " after PT0.15S ("),
                error.getMessage());
        assertEquals(address, error.address());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aSocketThatCannotBeUsedFailsAtOnce(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        Path notADirectory = Files.createFile(dir.resolve("file"));
        VchanAddress address = new VchanAddress(notADirectory, 7, 0, 516);
        Future<Channel> client = transport.connect(address, new Collector(), Duration.ofSeconds(30));
        assertTrue(client.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "no retry for a hopeless path");
        VchanConnectException error = assertInstanceOf(VchanConnectException.class, client.cause());
        assertFalse(error instanceof VchanConnectException.Timeout, error.toString());
        assertTrue(error.getMessage().startsWith("cannot connect to " + address.path()), error.getMessage());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aListenerNobodyConnectsToTimesOutAndGoesAway(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 0, 9, 600);
        Future<Channel> server = transport.listen(address, new Echo(), Duration.ofMillis(100));
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        VchanConnectException.Timeout error = assertInstanceOf(VchanConnectException.Timeout.class, server.cause());
        assertEquals("nobody connected to " + address.path() + " within PT0.1S", error.getMessage());
        await().atMost(WAIT).until(() -> !Files.exists(address.path()));
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void cancellingAListenStopsListening(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 0, 9, 602);
        Future<Channel> server = transport.listen(address, new Echo());
        await().atMost(WAIT).until(() -> Files.exists(address.path()));
        assertTrue(server.cancel(false));
        await().atMost(WAIT).until(() -> !Files.exists(address.path()));
        Future<Channel> late = transport.connect(address, new Collector(), Duration.ofMillis(100));
        assertTrue(late.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertInstanceOf(VchanConnectException.Timeout.class, late.cause());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void cancellingAConnectStopsRetrying(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 3, 0, 603);
        Future<Channel> client = transport.connect(address, new Collector(), WAIT);
        await().atMost(WAIT).until(() -> transport.failedConnectAttempts() >= 1);
        assertTrue(client.cancel(false));
        long attempts = transport.failedConnectAttempts();
        // a listener that appears now gets nobody: the retry loop has stopped
        Future<Channel> server = transport.listen(address, new Echo(), Duration.ofMillis(300));
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertInstanceOf(VchanConnectException.Timeout.class, server.cause());
        assertTrue(transport.failedConnectAttempts() <= attempts + 1, "at most the attempt in flight");
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aSocketPathOfExactlyTheLimitWorks(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        String name = "/vchan.42.0.512.sock";
        int padding = VchanAddress.MAX_PATH_BYTES - dir.toString().length() - 1 - name.length();
        Path deep = Files.createDirectory(dir.resolve("p".repeat(padding)));
        VchanAddress address = new VchanAddress(deep, 42, 0, 512);
        assertEquals(VchanAddress.MAX_PATH_BYTES, address.path().toString().length());
        Future<Channel> server = transport.listen(address, new Echo());
        Collector received = new Collector();
        connected(transport.connect(address, received, WAIT)).writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
        await().atMost(WAIT).until(() -> received.size() == 1);
        assertTrue(server.isSuccess(), () -> "listen failed: " + server.cause());
    }

    @ParameterizedTest
    @MethodSource("kinds")
    void aStaleSocketFileIsReplaced(VchanTransport.Kind kind) throws Exception {
        VchanTransport transport = transport(kind);
        VchanAddress address = new VchanAddress(dir, 0, 9, 601);
        Files.createFile(address.path());
        Future<Channel> server = transport.listen(address, new Echo());
        Collector received = new Collector();
        connected(transport.connect(address, received, WAIT)).writeAndFlush(Unpooled.wrappedBuffer(new byte[] {5}));
        await().atMost(WAIT).until(() -> received.size() == 1);
        assertTrue(server.await(WAIT.toMillis(), TimeUnit.MILLISECONDS) && server.isSuccess());
    }

    @Test
    void theTransportSaysWhichNettyTransportItUses() {
        VchanTransport auto = transport(null);
        assertEquals(Epoll.isAvailable() ? VchanTransport.Kind.EPOLL : VchanTransport.Kind.NIO, auto.kind());
        assertTrue(auto.description().startsWith(auto.kind().name().toLowerCase(java.util.Locale.ROOT)),
                auto.description());
        assertNotEquals("", auto.toString());
    }

    private VchanTransport transport(VchanTransport.Kind kind) {
        VchanTransport transport = kind == null ? VchanTransport.create() : VchanTransport.create(kind, 1);
        transports.add(transport);
        return transport;
    }

    private static Channel connected(Future<Channel> future) throws InterruptedException {
        assertTrue(future.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "not connected within " + WAIT);
        assertTrue(future.isSuccess(), () -> "connect failed: " + future.cause());
        return future.getNow();
    }

    /** Writes back whatever it reads. */
    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    /** Keeps every byte it reads. */
    @ChannelHandler.Sharable
    static final class Collector extends ChannelInitializer<Channel> {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf buf = (ByteBuf) msg;
                    try {
                        byte[] chunk = new byte[buf.readableBytes()];
                        buf.readBytes(chunk);
                        synchronized (bytes) {
                            bytes.writeBytes(chunk);
                        }
                    } finally {
                        buf.release();
                    }
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    ctx.close(); // a client turned away by the one-connection listener sees a reset
                }
            });
        }

        int size() {
            synchronized (bytes) {
                return bytes.size();
            }
        }

        byte[] bytes() {
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }
    }
}
