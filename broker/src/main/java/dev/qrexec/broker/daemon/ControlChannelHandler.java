package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.ConnectionTerminated;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.Trigger;
import dev.qrexec.broker.wire.WireLimits;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The daemon's end of one qube's control channel, behind the wire codec: triggers go to the
 * daemon, CONNECTION_TERMINATED frees the port. The calling qube is this channel's owner, never a
 * field of a message.
 */
final class ControlChannelHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = System.getLogger(ControlChannelHandler.class.getName());

    private final BrokerDaemon daemon;
    private final AgentSession session;

    ControlChannelHandler(BrokerDaemon daemon, AgentSession session) {
        this.daemon = daemon;
        this.session = session;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeCompleted h) {
            session.markReady(h.version());
            LOG.log(Level.INFO, "agent of {0} (domain {1}) connected, protocol version {2}",
                    session.name(), session.domainId(), h.version());
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Trigger trigger) {
            daemon.onTrigger(session, trigger);
        } else if (msg instanceof ConnectionTerminated ct) {
            if (!WireLimits.isDataPort(ct.connectPort())) {
                // The C daemon exits on this; we drop only this qube's channel.
                LOG.log(Level.WARNING, "{0}: CONNECTION_TERMINATED for port {1} outside 513..768, closing",
                        session.name(), Integer.toUnsignedString(ct.connectPort()));
                ctx.close();
                return;
            }
            session.connectionTerminated(ct.connectDomain(), ct.connectPort());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * An agent that sends triggers but does not read our answers would make the answers pile up:
     * stop reading its requests while its outbound buffer is over the high water mark.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        if (!writable) {
            LOG.log(Level.WARNING, "{0} does not read its control channel; pausing its requests", session.name());
        }
        ctx.channel().config().setAutoRead(writable);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        LOG.log(Level.INFO, "control channel of {0} closed", session.name());
        session.closed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "control channel of " + session.name() + " failed, closing", cause);
        ctx.close();
    }
}
