package dev.qrexec.broker.agent;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * vchan over Unix sockets, named as Qubes' socket backend names them:
 * {@code <dir>/vchan.<server domain>.<client domain>.<port>.sock} (spec 10.1). The server role
 * accepts one connection and stops listening, as libvchan-socket does; the client role retries
 * while the socket is missing or refused, but, unlike the C library, gives up after a timeout.
 *
 * <p>Kept small and behind this class so it can be switched to xen-core's transport.
 */
public final class VchanSockets {

    /** Data channels: up to 256 KiB queued for the peer before producers wait. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);
    static final long RETRY_MILLIS = 10;

    private final EventLoopGroup group;
    private final Path dir;

    public VchanSockets(EventLoopGroup group, Path dir) {
        this.group = group;
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    public Path path(int server, int client, int port) {
        return dir.resolve("vchan." + server + "." + client + "." + port + ".sock");
    }

    /**
     * Listens on {@code vchan.<server>.<client>.<port>.sock}, accepts one connection (set up with
     * {@code handler}), then closes the listener and removes the file.
     *
     * @return completes with the accepted channel
     */
    public Promise<Channel> listenOnce(int server, int client, int port, ChannelHandler handler) throws IOException {
        Path path = path(server, client, port);
        Files.deleteIfExists(path);
        Promise<Channel> accepted = group.next().newPromise();
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (!accepted.trySuccess(ch)) {
                            ch.close(); // only one peer per vchan
                            return;
                        }
                        ch.pipeline().addLast(handler);
                        ch.parent().close();
                        deleteQuietly(path);
                    }
                });
        ChannelFuture bound = b.bind(new DomainSocketAddress(path.toString())).syncUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on " + path, bound.cause());
        }
        accepted.addListener(f -> {
            if (!f.isSuccess()) {
                bound.channel().close();
                deleteQuietly(path);
            }
        });
        return accepted;
    }

    /**
     * Connects to {@code vchan.<server>.<client>.<port>.sock}, retrying every few milliseconds while
     * the peer is not listening yet, for at most {@code timeout}.
     */
    public Promise<Channel> connect(int server, int client, int port, ChannelHandler handler, Duration timeout) {
        Path path = path(server, client, port);
        Promise<Channel> result = group.next().newPromise();
        long deadline = System.nanoTime() + timeout.toNanos();
        attempt(path, handler, result, deadline);
        return result;
    }

    private void attempt(Path path, ChannelHandler handler, Promise<Channel> result, long deadline) {
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(handler);
        b.connect(new DomainSocketAddress(path.toString())).addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                result.trySuccess(f.channel());
            } else if (result.isCancelled()) {
                return;
            } else if (System.nanoTime() - deadline > 0) {
                result.tryFailure(new IOException("no vchan peer at " + path + " within the timeout", f.cause()));
            } else {
                group.next().schedule(() -> attempt(path, handler, result, deadline),
                        RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
        });
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // A stale socket file is harmless: the next listener replaces it.
        }
    }
}
