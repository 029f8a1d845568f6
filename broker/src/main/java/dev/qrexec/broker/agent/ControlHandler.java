package dev.qrexec.broker.agent;

import dev.qrexec.broker.wire.ExecCommand;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.ServiceConnect;
import dev.qrexec.broker.wire.ServiceRefused;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The agent's end of the control channel, after the codec: EXEC_CMDLINE and JUST_EXEC start calls,
 * SERVICE_CONNECT and SERVICE_REFUSED answer the triggers of local clients. The codec has already
 * refused every other type (that closes the channel; the agent then waits for a new daemon).
 */
final class ControlHandler extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ControlHandler.class.getName());

    private final Agent agent;

    ControlHandler(Agent agent) {
        this.agent = agent;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeCompleted hc) {
            LOG.log(System.Logger.Level.INFO, "daemon connected, protocol version " + hc.version());
            agent.controlReady(ctx.channel());
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof ExecCommand exec) {
                agent.startCall(exec.connectDomain(), exec.connectPort(), exec.commandLine(),
                        exec.type() == MessageType.JUST_EXEC);
            } else if (msg instanceof ServiceConnect sc) {
                agent.triggers().connect(sc.requestId(), sc.connectDomain(), sc.connectPort());
            } else if (msg instanceof ServiceRefused sr) {
                agent.triggers().refuse(sr.requestId());
            } else {
                LOG.log(System.Logger.Level.WARNING, "control channel: unexpected " + msg + ", closing");
                ctx.close();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        LOG.log(System.Logger.Level.INFO, "daemon disconnected");
        agent.controlLost(ctx.channel());
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.WARNING, "control channel failed: " + cause);
        ctx.close();
    }
}
