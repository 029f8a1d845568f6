package dev.qrexec.policy.daemon;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.lang.System.Logger.Level;
import java.util.Objects;

/**
 * Answers a validated {@link SocketRequest}: writes the responder's reply, then closes.
 *
 * <p>Evaluation runs right here on the event loop (see docs/architecture/policy-tools.md): it is a
 * CPU-only scan over an immutable snapshot that takes microseconds, cheaper than a thread hand-off.
 * A responder that throws, or a reply that is not ASCII, becomes a logged {@code result=deny}: the
 * reference would crash and answer nothing, and a deny is the safe equivalent.
 */
@Sharable
public final class PolicyReplyHandler extends SimpleChannelInboundHandler<SocketRequest> {

    static final String DENY = "result=deny";
    private static final System.Logger LOG = System.getLogger(PolicyReplyHandler.class.getName());

    private final PolicyResponder responder;

    public PolicyReplyHandler(PolicyResponder responder) {
        this.responder = Objects.requireNonNull(responder, "responder");
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, SocketRequest request) {
        String reply = replyFor(request);
        ByteBuf out = ByteBufUtil.writeAscii(ctx.alloc(), reply);
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    }

    private String replyFor(SocketRequest request) {
        String reply;
        try {
            reply = responder.reply(request);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "policy.sock: evaluation of " + request + " failed; denying", e);
            return DENY;
        }
        if (reply == null || !isAscii(reply)) {
            LOG.log(Level.ERROR, "policy.sock: reply for {0} is not ASCII text; denying", request);
            return DENY;
        }
        return reply;
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.WARNING, "policy.sock: connection error; closing", cause);
        ctx.close();
    }
}
