package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.ExecCommand;
import dev.qrexec.broker.wire.ExecParamsReply;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The daemon's end of a local socket {@code qrexec.<domid>} (channel C, spec qrexec-wire.md 4.3):
 * one EXEC_CMDLINE or JUST_EXEC from qrexec-client in dom0. The broker picks a port on the qube,
 * answers {@code {domid, port}}, forwards the command to the agent with {@code DEFAULT:} replaced,
 * and closes the connection when the agent reports the call terminated, which is how callers
 * learn a call is over. SERVICE_CONNECT is refused: policy runs in-process, no child asks for it.
 */
final class LocalClientHandler extends ChannelInboundHandlerAdapter implements CallLeg {

    private static final Logger LOG = System.getLogger(LocalClientHandler.class.getName());

    private final BrokerDaemon daemon;
    private final String qube;
    private ChannelHandlerContext ctx;
    private boolean requested;

    LocalClientHandler(BrokerDaemon daemon, String qube) {
        this.daemon = daemon;
        this.qube = qube;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (requested || !(msg instanceof ExecCommand cmd)) {
            LOG.log(Level.WARNING, "local socket of {0}: unexpected {1}, closing", qube, msg);
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        requested = true;
        AgentSession session = daemon.session(qube).orElse(null);
        if (session == null || session.state() != AgentSession.State.READY) {
            LOG.log(Level.WARNING, "local socket of {0}: agent not connected, refusing {1}", qube, cmd.commandLine());
            ctx.close();
            return;
        }
        if (cmd.connectPort() != 0) {
            LOG.log(Level.WARNING, "local socket of {0}: request with port {1} refused", qube, cmd.connectPort());
            ctx.close();
            return;
        }
        int port = session.allocatePort(this);
        if (port < 0) {
            LOG.log(Level.WARNING, "local socket of {0}: no free data port", qube);
            ctx.close();
            return;
        }
        String line = cmd.commandLine();
        if (line.startsWith("DEFAULT:")) {
            line = daemon.config().defaultUser() + line.substring("DEFAULT".length());
        }
        ctx.writeAndFlush(new ExecParamsReply(cmd.type(), session.domainId(), port));
        LOG.log(Level.INFO, "dom0 -> {0}: {1} on port {2}", qube, line, port);
        session.send(new ExecCommand(cmd.type(), cmd.connectDomain(), port, line)).addListener(f -> {
            if (!f.isSuccess()) {
                LOG.log(Level.WARNING, "local socket of {0}: forwarding failed: {1}", qube, f.cause());
                ctx.close();
            }
        });
    }

    @Override
    public void terminated(AgentSession session, int port) {
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "local socket of {0} failed: {1}", qube, String.valueOf(cause));
        ctx.close();
    }
}
