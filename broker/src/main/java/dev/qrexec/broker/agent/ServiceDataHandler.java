package dev.qrexec.broker.agent;

import dev.qrexec.broker.agent.stream.InboundPump;
import dev.qrexec.broker.agent.stream.OutboundPump;
import dev.qrexec.broker.agent.stream.WritabilityGate;
import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.ExitCode;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.WireSession;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The service side of one data channel (spec 5.2): once the HELLO exchange is done, starts the
 * service, relays the caller's stdin to it and its stdout and stderr back, then sends the exit code
 * and hangs up. For JUST_EXEC it only sends the exit code (0 started, 127 not found, 125 problem).
 *
 * <p>State is confined to the channel's event loop; blocking work (starting the service, copying
 * streams) runs on {@code workers}.
 */
final class ServiceDataHandler extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ServiceDataHandler.class.getName());

    /** Where a call is. */
    enum State {
        /** Waiting for the peer's HELLO. */
        HANDSHAKE,
        /** The service is being looked up and started on a worker. */
        LAUNCHING,
        /** Streams are flowing. */
        RUNNING,
        /** The exit code was sent (or the call failed); the channel is closing. */
        DONE
    }

    private final String what;
    private final boolean justExec;
    private final Supplier<ServiceLauncher.Launch> launcher;
    private final Executor workers;
    private final CompletableFuture<Integer> finished = new CompletableFuture<>();
    private State state = State.HANDSHAKE;
    private Channel channel;
    private InboundPump stdin;
    private boolean stdinEof;
    private RunningService service;
    private CallEnding ending = CallEnding.PROCESS;
    private OutboundPump stdoutPump;
    private OutboundPump stderrPump;
    private int exitStatus = -1;

    /**
     * @param what     the command, for logs
     * @param launcher starts the service; called once, on a worker thread
     */
    ServiceDataHandler(String what, boolean justExec, Supplier<ServiceLauncher.Launch> launcher, Executor workers) {
        this.what = what;
        this.justExec = justExec;
        this.launcher = launcher;
        this.workers = workers;
    }

    /** Completes with the exit status sent (or -1) once the channel is closed. */
    CompletableFuture<Integer> finished() {
        return finished;
    }

    State state() {
        return state;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeCompleted && state == State.HANDSHAKE) {
            channel = ctx.channel();
            state = State.LAUNCHING;
            stdin = new InboundPump("stdin of " + what, channel);
            try {
                workers.execute(() -> {
                    ServiceLauncher.Launch launch = launcher.get();
                    channel.eventLoop().execute(() -> onLaunched(launch));
                });
            } catch (RejectedExecutionException e) {
                onLaunched(new ServiceLauncher.Failed(ExitCodes.PROBLEM, "too many calls running"));
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DataFrame frame) || frame.type() != MessageType.DATA_STDIN) {
            // The codec only lets STDIN through on a service channel; anything else is a bug upstream.
            ReferenceCountUtil.release(msg);
            return;
        }
        if (stdin == null || state == State.DONE) {
            frame.release();
            return;
        }
        if (stdinEof) {
            frame.release();
            LOG.log(System.Logger.Level.WARNING, channel + ": STDIN after its EOF, closing");
            ctx.close();
            return;
        }
        if (frame.isEof()) {
            frame.release();
            stdinEof = true;
            stdin.finish();
            return;
        }
        if (!stdin.offer(frame.content())) {
            ctx.close();
        }
    }

    private void onLaunched(ServiceLauncher.Launch launch) {
        if (state != State.LAUNCHING) {
            // The caller hung up while we were starting: stop what was started.
            if (launch instanceof ServiceLauncher.Started s && !justExec) {
                s.service().destroy();
            }
            return;
        }
        if (launch instanceof ServiceLauncher.Failed f) {
            LOG.log(System.Logger.Level.INFO, "cannot run '" + what + "': " + f.reason());
            stdin.abort();
            if (!justExec) {
                channel.write(DataFrame.eof(MessageType.DATA_STDOUT));
                channel.write(DataFrame.eof(MessageType.DATA_STDERR));
            }
            sendExitAndClose(f.exitCode());
            return;
        }
        ServiceLauncher.Started started = (ServiceLauncher.Started) launch;
        if (justExec) {
            stdin.abort();
            sendExitAndClose(0);
            return;
        }
        service = started.service();
        ending = started.ending();
        state = State.RUNNING;
        int chunk = WireSession.of(channel).outboundChunkLimit();
        WritabilityGate gate = channel.pipeline().get(WritabilityGate.class);
        try {
            stdin.start(workers, service.stdin());
            stdoutPump = new OutboundPump(channel, gate, MessageType.DATA_STDOUT, service.stdout(), chunk).start(workers);
            stderrPump = new OutboundPump(channel, gate, MessageType.DATA_STDERR, service.stderr(), chunk).start(workers);
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "no thread for the streams of " + started.what());
            service.destroy();
            channel.close();
            return;
        }
        CompletableFuture<?> over;
        if (!ending.socket()) {
            over = CompletableFuture.allOf(stdoutPump.done(), stderrPump.done(), service.exitStatus());
        } else if (ending.exitOnServiceEof()) {
            over = CompletableFuture.allOf(stdoutPump.done(), stderrPump.done());
        } else {
            over = CompletableFuture.allOf(stdoutPump.done(), stderrPump.done(), stdin.done());
        }
        over.whenComplete((v, err) -> channel.eventLoop().execute(this::onServiceFinished));
        if (ending.exitOnClientEof()) {
            // Once the caller's input is delivered (or dropped), close the socket: the stdout pump
            // then sees its end, sends STDOUT EOF, and the call ends without waiting for the service.
            stdin.done().whenComplete((v, err) -> channel.eventLoop().execute(this::onClientEofWithExit));
        }
    }

    /** {@code exit-on-client-eof}: the caller's stdin ended, so the service's connection is closed. */
    private void onClientEofWithExit() {
        if (state != State.RUNNING) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "'{0}': caller sent EOF, closing the service (exit-on-client-eof)", what);
        service.destroy();
    }

    private void onServiceFinished() {
        if (state != State.RUNNING) {
            return;
        }
        if (!stdoutPump.done().join() || !stderrPump.done().join()) {
            return; // the channel closed first; channelInactive cleans up
        }
        // A socket service has no exit status of its own: qrexec reports 0 (spec 5.2, 7.2).
        int status = ending.socket() ? 0 : service.exitStatus().getNow(ExitCodes.PROBLEM);
        if (ending.socket()) {
            service.destroy();
        }
        sendExitAndClose(status);
    }

    private void sendExitAndClose(int status) {
        state = State.DONE;
        exitStatus = status;
        channel.writeAndFlush(new ExitCode(status)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.RUNNING || state == State.LAUNCHING) {
            LOG.log(System.Logger.Level.INFO, ctx.channel() + ": vchan connection closed early, stopping '"
                    + what + "'");
        }
        State was = state;
        state = State.DONE;
        if (stdin != null) {
            stdin.abort();
        }
        if (was == State.RUNNING) {
            stdoutPump.stop();
            stderrPump.stop();
            service.destroy();
        }
        finished.complete(exitStatus);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(System.Logger.Level.WARNING, ctx.channel() + ": data channel failed: " + cause);
        ctx.close();
    }
}
