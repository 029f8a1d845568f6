package dev.qrexec.policy.daemon;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;

/**
 * Turns the lines of {@link RequestLineDecoder} into one {@link SocketRequest}, or closes the
 * connection without a reply when the request is malformed (spec 7.1: unknown or repeated keys, bad
 * booleans, missing keys, a line without {@code =}, a decoder failure).
 *
 * <p>One instance per connection; runs on that connection's event loop.
 */
public final class PolicyRequestValidator extends ChannelInboundHandlerAdapter {

    private static final System.Logger LOG = System.getLogger(PolicyRequestValidator.class.getName());

    private final PolicyRequestParser parser = new PolicyRequestParser();
    private boolean done;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            if (msg == RequestLineDecoder.END_OF_REQUEST) {
                done = true;
                ctx.fireChannelRead(parser.finish());
            } else if (msg instanceof String line) {
                parser.line(line);
            } else {
                ReferenceCountUtil.release(msg);
                reject(ctx, "unexpected message " + msg.getClass().getName());
            }
        } catch (MalformedRequestException e) {
            reject(ctx, e.getMessage());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            reject(ctx, String.valueOf(cause.getMessage()));
        } else if (cause instanceof ReadTimeoutException) {
            reject(ctx, "no complete request before the read timeout");
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
        done = true;
        LOG.log(Level.WARNING, "policy.sock: closing without reply, malformed request: {0}", reason);
        ctx.close();
    }
}
