package dev.qrexec.broker.wire;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The per-channel state machine: HELLO first (sent, awaited or answered as the role says), version
 * negotiation, then only the message types the role allows at that version. A violation, whether
 * seen here or thrown by the decoders in front, is logged with its reason and closes this channel.
 * Data sent the wrong way on a data channel is logged and dropped, as the C code does.
 *
 * <p>HELLO is consumed here; the next handlers see {@link HandshakeCompleted} and then messages.
 */
public final class ProtocolStateHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = System.getLogger(ProtocolStateHandler.class.getName());

    private final WireSession session;
    private final FrameDecoder frameDecoder;
    private boolean started;

    ProtocolStateHandler(WireSession session, FrameDecoder frameDecoder) {
        this.session = session;
        this.frameDecoder = frameDecoder;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Installed on a channel that is already active (accepted child, EmbeddedChannel):
        // channelActive will not come, so start now.
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Our HELLO goes out before any handler behind us can write on channelActive.
        start(ctx);
        ctx.fireChannelActive();
        if (session.role().helloMode() == ChannelRole.HelloMode.NONE) {
            ctx.fireUserEventTriggered(new HandshakeCompleted(session.role(), session.version()));
        }
    }

    private void start(ChannelHandlerContext ctx) {
        if (started) {
            return;
        }
        started = true;
        ChannelRole role = session.role();
        if (role.helloMode() == ChannelRole.HelloMode.SEND_FIRST) {
            ctx.writeAndFlush(new Hello(role.ourVersion()));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof QrexecMessage message)) {
            ctx.fireChannelRead(msg);
            return;
        }
        switch (session.state()) {
            case FAILED:
                ReferenceCountUtil.release(msg);
                return;
            case AWAITING_HELLO:
                onHello(ctx, message);
                return;
            default:
                onMessage(ctx, message);
        }
    }

    private void onHello(ChannelHandlerContext ctx, QrexecMessage message) {
        if (!(message instanceof Hello hello)) {
            ReferenceCountUtil.release(message);
            violation(ctx, "expected HELLO first, got " + message.type());
            return;
        }
        ChannelRole role = session.role();
        int version;
        try {
            version = ProtocolVersion.negotiate(role.ourVersion(), hello.version(), role.minPeerVersion());
        } catch (ProtocolViolationException e) {
            violation(ctx, e.getMessage());
            return;
        }
        if (role.helloMode() == ChannelRole.HelloMode.REPLY) {
            ctx.writeAndFlush(new Hello(version));
        }
        session.ready(version);
        frameDecoder.maxBodyLength(role.maxBody(version));
        LOG.log(Level.DEBUG, () -> ctx.channel() + " " + role + " negotiated protocol version " + version);
        ctx.fireUserEventTriggered(new HandshakeCompleted(role, version));
    }

    private void onMessage(ChannelHandlerContext ctx, QrexecMessage message) {
        ChannelRole role = session.role();
        if (message.type() == MessageType.HELLO) {
            violation(ctx, "second HELLO after the handshake");
            return;
        }
        if (role.isWrongDirection(message.type())) {
            LOG.log(Level.WARNING, "{0} {1}: ignoring {2} sent the wrong way", ctx.channel(), role, message.type());
            ReferenceCountUtil.release(message);
            return;
        }
        String refusal = role.refusal(message.type(), session.version());
        if (refusal != null) {
            ReferenceCountUtil.release(message);
            violation(ctx, refusal);
            return;
        }
        ctx.fireChannelRead(message);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException) {
            Throwable reason = cause instanceof ProtocolViolationException || cause.getCause() == null
                    ? cause : cause.getCause();
            violation(ctx, reason.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private void violation(ChannelHandlerContext ctx, String reason) {
        if (session.state() == WireSession.State.FAILED) {
            return;
        }
        session.fail();
        LOG.log(Level.WARNING, "{0} {1}: protocol violation, closing: {2}", ctx.channel(), session.role(), reason);
        ctx.fireUserEventTriggered(new ProtocolViolation(session.role(), reason));
        ctx.close();
    }
}
