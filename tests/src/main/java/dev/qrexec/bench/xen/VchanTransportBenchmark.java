package dev.qrexec.bench.xen;

import dev.qrexec.xen.transport.VchanAddress;
import dev.qrexec.xen.transport.VchanListener;
import dev.qrexec.xen.transport.VchanTransport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The vchan-socket transport: opening a vchan (listen, connect, accept) and a 64-byte round trip
 * over an open one (client → echo → client), on epoll and on NIO.
 *
 * <p>{@code openVchan} waits for the listener to be bound before connecting, as the broker does.
 *
 * <p>Run: {@code bench/jmh VchanTransportBenchmark}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class VchanTransportBenchmark {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int MESSAGE = 64;

    @Param({"EPOLL", "NIO"})
    public VchanTransport.Kind kind;

    private Path dir;
    private VchanTransport transport;
    private Channel client;
    private Channel server;
    private final Receiver receiver = new Receiver();
    private final ByteBuf message = Unpooled.unreleasableBuffer(Unpooled.directBuffer(MESSAGE).writeZero(MESSAGE));
    private int port = 1024;

    @Setup(Level.Trial)
    public void open() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "vb");
        transport = VchanTransport.create(kind, 1);
        Future<Channel> accepted = transport.listen(new VchanAddress(dir, 1, 0, 512), new Echo());
        client = transport.connect(new VchanAddress(dir, 1, 0, 512), receiver, TIMEOUT).sync().getNow();
        server = accepted.sync().getNow();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        client.close().syncUninterruptibly();
        server.close().syncUninterruptibly();
        transport.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    @Benchmark
    public void roundTrip() throws Exception {
        CompletableFuture<Void> back = receiver.expect(MESSAGE);
        client.writeAndFlush(message.duplicate());
        back.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    @Benchmark
    public void openVchan() throws Exception {
        VchanAddress address = new VchanAddress(dir, 1, 0, port++);
        VchanListener listener = transport.openListener(address, new Echo(), TIMEOUT);
        listener.bound().sync(); // as the broker does before sending EXEC_CMDLINE
        Channel opened = transport.connect(address, new Echo(), TIMEOUT).sync().getNow();
        Channel peer = listener.accepted().sync().getNow();
        opened.close().sync();
        peer.close().sync();
    }

    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }
    }

    /** Completes the expected future once that many bytes came back; one round trip at a time. */
    @ChannelHandler.Sharable
    static final class Receiver extends ChannelInboundHandlerAdapter {
        private volatile CompletableFuture<Void> pending;
        private int missing;

        CompletableFuture<Void> expect(int bytes) {
            CompletableFuture<Void> future = new CompletableFuture<>();
            missing = bytes;
            pending = future; // volatile write publishes missing
            return future;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                CompletableFuture<Void> future = pending;
                missing -= buf.readableBytes();
                if (missing <= 0 && future != null) {
                    future.complete(null);
                }
            } finally {
                buf.release();
            }
        }
    }
}
