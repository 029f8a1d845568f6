package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** A framed message before its body is parsed: a known type and the body bytes. */
public final class RawFrame extends DefaultByteBufHolder {

    private final MessageType type;

    public RawFrame(MessageType type, ByteBuf body) {
        super(body);
        this.type = type;
    }

    public MessageType type() {
        return type;
    }

    @Override
    public RawFrame replace(ByteBuf content) {
        return new RawFrame(type, content);
    }

    @Override
    public String toString() {
        return "RawFrame[" + type + ", " + content().readableBytes() + " bytes]";
    }
}
