package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.HandshakeCompleted;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/** The application end of one data channel of a relayed call: hands everything to the {@link RelayCall}. */
final class RelayHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = System.getLogger(RelayHandler.class.getName());

    private final RelayCall call;
    private final RelayCall.Side side;

    RelayHandler(RelayCall call, RelayCall.Side side) {
        this.call = call;
        this.side = side;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeCompleted) {
            call.sideReady(side, ctx.channel());
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        call.received(side, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        call.readComplete(side);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        call.writabilityChanged(side);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        call.sideClosed(side);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Once the exit code is relayed, a reset only means a peer closed with our last bytes
        // (e.g. the end of input) unread: the call is complete, nothing was lost.
        Level level = call.exitCodeRelayed() && cause instanceof java.io.IOException ? Level.DEBUG : Level.WARNING;
        LOG.log(level, "{0}: {1} data channel failed: {2}", call, side, String.valueOf(cause));
        ctx.close();
    }
}
