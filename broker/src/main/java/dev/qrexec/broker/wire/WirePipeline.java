package dev.qrexec.broker.wire;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;

/**
 * Installs the qrexec codec on a channel: frame decoder, message decoder, message encoder and the
 * role's state machine, in that order. Application handlers go after them.
 */
public final class WirePipeline {

    public static final String FRAME_DECODER = "qrexec-frame-decoder";
    public static final String MESSAGE_DECODER = "qrexec-message-decoder";
    public static final String MESSAGE_ENCODER = "qrexec-message-encoder";
    public static final String STATE = "qrexec-state";

    private WirePipeline() {
    }

    /** Adds the codec for {@code role} at the end of the channel's pipeline. */
    public static WireSession install(Channel channel, ChannelRole role) {
        WireSession session = new WireSession(role);
        channel.attr(WireSession.KEY).set(session);
        FrameDecoder frames = new FrameDecoder(
                session.state() == WireSession.State.READY ? role.maxBody(session.version()) : role.maxControlBody());
        ChannelPipeline p = channel.pipeline();
        p.addLast(FRAME_DECODER, frames);
        p.addLast(MESSAGE_DECODER, new MessageDecoder());
        p.addLast(MESSAGE_ENCODER, MessageEncoder.INSTANCE);
        p.addLast(STATE, new ProtocolStateHandler(session, frames));
        return session;
    }
}
