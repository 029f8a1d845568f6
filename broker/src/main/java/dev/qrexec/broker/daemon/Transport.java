package dev.qrexec.broker.daemon;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;

import java.nio.file.Path;

/**
 * Stream-socket transport between the broker and qubes. The daemon only needs to connect to a
 * socket path and to listen on one; this seam lets a vchan or sandbox transport replace plain
 * Unix-domain sockets.
 */
public interface Transport extends AutoCloseable {

    /** The event loops that run every channel of this transport. */
    EventLoopGroup group();

    /**
     * Connects to {@code path} on {@code loop}; {@code initializer} configures the new channel's
     * pipeline before it becomes active.
     */
    ChannelFuture connect(EventLoop loop, Path path, ChannelHandler initializer);

    /**
     * Listens on {@code path} (replacing a stale socket file) on {@code loop};
     * {@code childInitializer} configures each accepted channel.
     */
    ChannelFuture listen(EventLoop loop, Path path, ChannelHandler childInitializer);

    @Override
    void close();
}
