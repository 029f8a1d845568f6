package dev.qrexec.broker.daemon.dom0;

import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.ExitCode;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.WireLimits;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs a dom0 service on the service side of a data channel: after the handshake it sends the
 * empty STDERR (dom0 services have no stderr to forward, spec 5.2), runs the service on a service
 * thread with the caller's stdin and stdout as streams, then sends STDOUT EOF and the exit code and
 * closes. A missing service answers 127, a failing one 125.
 */
public final class ServiceChannelHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = System.getLogger(ServiceChannelHandler.class.getName());

    private final ServiceCall call;
    private final Dom0Service service;
    private final Executor executor;
    private ChannelInputStream stdin;
    private ChannelOutputStream stdout;
    /** Set on the loop before the service thread starts; read by that thread when it ends. */
    private volatile ChannelHandlerContext context;

    /** {@code service} null means the service does not exist (exit 127). */
    public ServiceChannelHandler(ServiceCall call, Dom0Service service, Executor executor) {
        this.call = call;
        this.service = service;
        this.executor = executor;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof HandshakeCompleted)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        ctx.writeAndFlush(DataFrame.eof(MessageType.DATA_STDERR));
        if (service == null) {
            LOG.log(Level.WARNING, "dom0 service {0} called by {1} does not exist", call.fullName(), call.source());
            finish(ctx, WireLimits.EXIT_SERVICE_NOT_FOUND, true);
            return;
        }
        stdin = new ChannelInputStream(ctx.channel());
        stdout = new ChannelOutputStream(ctx.channel());
        try {
            executor.execute(this::runService);
        } catch (RejectedExecutionException e) {
            LOG.log(Level.WARNING, "dom0 service {0} from {1}: no service thread free", call.fullName(), call.source());
            finish(ctx, WireLimits.EXIT_PROBLEM, true);
        }
    }

    private void runService() {
        int status;
        try {
            status = service.run(call, stdin, stdout);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "dom0 service " + call.fullName() + " from " + call.source() + " failed", e);
            status = WireLimits.EXIT_PROBLEM;
        } finally {
            stdin.close();
        }
        stdout.close();
        ChannelHandlerContext ctx = context;
        int exit = status;
        ctx.channel().eventLoop().execute(() -> finish(ctx, exit, false));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    private void finish(ChannelHandlerContext ctx, int status, boolean stdoutEof) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (stdoutEof) {
            ctx.write(DataFrame.eof(MessageType.DATA_STDOUT));
        }
        ctx.writeAndFlush(new ExitCode(status)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DataFrame d && d.type() == MessageType.DATA_STDIN && stdin != null) {
            if (d.isEof()) {
                d.release();
                stdin.end();
            } else {
                stdin.offer(d.content());
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stdout != null) {
            stdout.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (stdin != null) {
            stdin.end();
        }
        if (stdout != null) {
            stdout.writabilityChanged();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "dom0 service {0} data channel failed: {1}", call.fullName(), String.valueOf(cause));
        ctx.close();
    }
}
