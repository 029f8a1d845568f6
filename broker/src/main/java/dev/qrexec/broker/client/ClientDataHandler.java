package dev.qrexec.broker.client;

import dev.qrexec.broker.agent.ExitCodes;
import dev.qrexec.broker.agent.stream.InboundPump;
import dev.qrexec.broker.agent.stream.OutboundPump;
import dev.qrexec.broker.agent.stream.WritabilityGate;
import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.ExitCode;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.WireSession;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The caller's side of a data channel (spec 5.2): sends local input as STDIN, writes STDOUT and
 * STDERR to local sinks, and on EXIT_CODE stops reading input (sending STDIN EOF if it was not
 * sent), lets the sinks drain and completes {@link #exitCode()}. Event-loop confined; the streams
 * are copied by pump threads from {@code workers}.
 */
public final class ClientDataHandler extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(ClientDataHandler.class.getName());

    private final InputStream input;
    private final OutputStream stdoutSink;
    private final OutputStream stderrSink;
    private final byte[] prefix;
    private final Executor workers;
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    private Channel channel;
    private OutboundPump stdinPump;
    private InboundPump stdout;
    private InboundPump stderr;
    private boolean exitSeen;

    /**
     * @param input      local data sent as STDIN
     * @param stdoutSink where STDOUT goes (closed at its EOF)
     * @param stderrSink where STDERR goes (closed at its EOF)
     * @param prefix     bytes sent as STDIN before {@code input} ({@code --prefix-data})
     */
    public ClientDataHandler(InputStream input, OutputStream stdoutSink, OutputStream stderrSink, byte[] prefix,
                             Executor workers) {
        this.input = input;
        this.stdoutSink = stdoutSink;
        this.stderrSink = stderrSink;
        this.prefix = prefix.clone();
        this.workers = workers;
    }

    /**
     * The remote exit code once every byte of output was written out, or 125 if the channel closed
     * without one.
     */
    public CompletableFuture<Integer> exitCode() {
        return exitCode;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeCompleted && channel == null) {
            channel = ctx.channel();
            stdout = new InboundPump("stdout", channel).start(workers, stdoutSink);
            stderr = new InboundPump("stderr", channel).start(workers, stderrSink);
            if (prefix.length > 0) {
                channel.writeAndFlush(new DataFrame(MessageType.DATA_STDIN, Unpooled.wrappedBuffer(prefix)));
            }
            int chunk = WireSession.of(channel).outboundChunkLimit();
            stdinPump = new OutboundPump(channel, channel.pipeline().get(WritabilityGate.class),
                    MessageType.DATA_STDIN, input, chunk).start(workers);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DataFrame frame && stdout != null && !exitSeen) {
            InboundPump pump = frame.type() == MessageType.DATA_STDOUT ? stdout : stderr;
            if (frame.isEof()) {
                frame.release();
                pump.finish();
            } else if (!pump.offer(frame.content())) {
                ctx.close();
            }
            return;
        }
        if (msg instanceof ExitCode code && !exitSeen) {
            exitSeen = true;
            onExit(code.status());
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    private void onExit(int status) {
        // Stop reading local input; tell the service there is no more unless the pump already did.
        boolean eofSent = stdinPump.done().getNow(false);
        stdinPump.stop();
        if (!eofSent) {
            channel.writeAndFlush(DataFrame.eof(MessageType.DATA_STDIN));
        }
        // A service that skipped its EOF frames still gets its output flushed.
        stdout.finish();
        stderr.finish();
        CompletableFuture.allOf(stdout.done(), stderr.done()).whenComplete((v, e) -> {
            exitCode.complete(status);
            channel.close();
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!exitSeen) {
            LOG.log(System.Logger.Level.WARNING, "data channel closed before the exit code");
            if (stdinPump != null) {
                stdinPump.stop();
                stdout.abort();
                stderr.abort();
            }
            exitCode.complete(ExitCodes.PROBLEM);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset after the exit code is the peer closing with our last bytes unread: the call is
        // complete and nothing was lost, so it is not worth a warning.
        System.Logger.Level level = exitSeen && cause instanceof java.io.IOException
                ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
        LOG.log(level, "data channel failed: " + cause);
        ctx.close();
    }
}
