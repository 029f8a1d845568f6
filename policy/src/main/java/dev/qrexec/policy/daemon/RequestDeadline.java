package dev.qrexec.policy.daemon;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import java.util.Map;

/**
 * Closes its connection, without a reply, if it is still open a fixed time after it became active
 * (a request takes microseconds once it has arrived, so only a silent or stalled client reaches
 * the deadline). The clock lives in the {@link DeadlineSweeper} of the connection's event loop; this
 * handler is the list node.
 *
 * <p>One instance per connection; all fields are owned by the connection's event loop.
 */
final class RequestDeadline extends ChannelInboundHandlerAdapter {

    private final Map<EventLoop, DeadlineSweeper> sweepers;
    private ChannelHandlerContext ctx;
    private DeadlineSweeper sweeper;

    // The list links, written by the sweeper only.
    long deadlineNanos;
    RequestDeadline older;
    RequestDeadline newer;
    boolean linked;

    /** @param sweepers one sweeper per event loop of the group that serves the connections */
    RequestDeadline(Map<EventLoop, DeadlineSweeper> sweepers) {
        this.sweepers = sweepers;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        sweeper = sweepers.get(ctx.channel().eventLoop());
        if (sweeper == null) {
            throw new IllegalStateException("no deadline sweeper for " + ctx.channel().eventLoop());
        }
        sweeper.add(this);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void stop() {
        if (sweeper != null) {
            sweeper.remove(this);
        }
    }

    /** The sweeper timing this connection, once active (for tests). */
    DeadlineSweeper sweeper() {
        return sweeper;
    }

    /** Called by the sweeper once the deadline has passed. */
    void expire() {
        ctx.close();
    }
}
