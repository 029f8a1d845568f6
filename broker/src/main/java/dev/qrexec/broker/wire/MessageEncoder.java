package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Writes {@link QrexecMessage}s as frames. A data frame goes out as a header followed by its own
 * buffer (no copy), split into chunks of the channel's negotiated limit. Control frames larger than
 * the role allows (4 KiB on control channels, spec 10.4) are refused: the write fails instead of
 * blocking the agent.
 */
@ChannelHandler.Sharable
public final class MessageEncoder extends MessageToMessageEncoder<QrexecMessage> {

    public static final MessageEncoder INSTANCE = new MessageEncoder();

    private MessageEncoder() {
        super(QrexecMessage.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, QrexecMessage msg, List<Object> out) {
        WireSession session = WireSession.of(ctx.channel());
        if (msg instanceof DataFrame data) {
            int limit = session != null ? session.outboundChunkLimit() : WireLimits.MAX_DATA_CHUNK_V2;
            ByteBuf content = data.content();
            if (!content.isReadable()) {
                out.add(WireFormat.header(ctx.alloc(), data.type(), 0));
                return;
            }
            while (content.isReadable()) {
                int n = Math.min(limit, content.readableBytes());
                out.add(WireFormat.header(ctx.alloc(), data.type(), n));
                out.add(content.readRetainedSlice(n));
            }
            return;
        }
        ByteBuf frame = WireFormat.encode(ctx.alloc(), msg);
        int max = session != null ? session.role().maxOutboundControlFrame() : WireLimits.MAX_CONTROL_FRAME;
        if (frame.readableBytes() > max) {
            int size = frame.readableBytes();
            frame.release();
            throw new EncoderException(msg.type() + " frame of " + size + " bytes exceeds the "
                    + max + "-byte limit of this channel");
        }
        out.add(frame);
    }
}
