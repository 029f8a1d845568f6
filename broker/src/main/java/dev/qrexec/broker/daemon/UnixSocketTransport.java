package dev.qrexec.broker.daemon;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Unix-domain stream sockets, as Qubes' vchan-socket library uses them: native epoll when
 * available, JDK NIO otherwise. Every channel gets a bounded write buffer ({@link #WATER_MARK}),
 * so a peer that stops reading makes its channel unwritable instead of growing memory.
 */
public final class UnixSocketTransport implements Transport {

    /** Low and high water marks of every channel's outbound buffer. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private final EventLoopGroup group;
    private final boolean epoll;

    private UnixSocketTransport(EventLoopGroup group, boolean epoll) {
        this.group = group;
        this.epoll = epoll;
    }

    /** A transport with its own {@code threads} event loops; native epoll if the platform has it. */
    public static UnixSocketTransport create(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        boolean epoll = Epoll.isAvailable() && !Boolean.getBoolean("qrexec.transport.nio");
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new UnixSocketTransport(new MultiThreadIoEventLoopGroup(threads, io), epoll);
    }

    /** True if channels use native epoll. */
    public boolean isEpoll() {
        return epoll;
    }

    @Override
    public EventLoopGroup group() {
        return group;
    }

    private SocketAddress address(Path path) {
        return epoll ? new DomainSocketAddress(path.toString()) : UnixDomainSocketAddress.of(path);
    }

    @Override
    public ChannelFuture connect(EventLoop loop, Path path, ChannelHandler initializer) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(epoll ? EpollDomainSocketChannel.class : NioDomainSocketChannel.class)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(initializer);
        return b.connect(address(path));
    }

    @Override
    public ChannelFuture listen(EventLoop loop, Path path, ChannelHandler childInitializer) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove stale socket " + path, e);
        }
        Class<? extends ServerChannel> type = epoll ? EpollServerDomainSocketChannel.class
                : NioServerDomainSocketChannel.class;
        ServerBootstrap b = new ServerBootstrap()
                .group(loop, loop)
                .channel(type)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childHandler(childInitializer);
        return b.bind(address(path));
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
