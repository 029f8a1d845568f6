package dev.qrexec.broker.wire;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/** Parses {@link RawFrame}s into typed {@link QrexecMessage}s (layouts in {@link WireFormat}). */
public final class MessageDecoder extends MessageToMessageDecoder<RawFrame> {

    public MessageDecoder() {
        super(RawFrame.class);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, RawFrame frame, List<Object> out) {
        out.add(WireFormat.parse(frame.type(), frame.content()));
    }
}
