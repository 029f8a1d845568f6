package dev.qrexec.policy.daemon;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the number of open connections of one server: a connection beyond the limit is closed at
 * once, without a reply (qrexec-daemon then falls back to {@code qrexec-policy-exec}, as for any
 * empty reply). Shared by all child channels; the counter is the only shared state.
 */
@Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ConnectionLimiter.class.getName());

    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();

    ConnectionLimiter(int maxConnections) {
        this.maxConnections = maxConnections;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        int now = open.incrementAndGet();
        // The decrement happens on close, whichever way the connection ends.
        ctx.channel().closeFuture().addListener(f -> open.decrementAndGet());
        if (now > maxConnections) {
            LOG.log(Level.WARNING, "policy.sock: {0} connections open, limit is {1}; closing the newest",
                    now, maxConnections);
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
    }

    int openConnections() {
        return open.get();
    }
}
