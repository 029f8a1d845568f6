package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * MSG_DATA_STDIN, MSG_DATA_STDOUT or MSG_DATA_STDERR: a chunk of one stream. An empty chunk is
 * that stream's EOF. The content is reference-counted: the consumer releases it.
 *
 * <p>A frame longer than the channel's negotiated chunk limit is split by the encoder, so
 * callers may write any size.
 */
public final class DataFrame extends DefaultByteBufHolder implements QrexecMessage {

    private final MessageType stream;

    public DataFrame(MessageType stream, ByteBuf content) {
        super(content);
        if (!stream.isStream()) {
            throw new IllegalArgumentException("not a data stream type: " + stream);
        }
        this.stream = stream;
    }

    /** The end-of-stream marker of {@code stream}. */
    public static DataFrame eof(MessageType stream) {
        return new DataFrame(stream, Unpooled.EMPTY_BUFFER);
    }

    @Override
    public MessageType type() {
        return stream;
    }

    /** True if this is the stream's EOF marker. */
    public boolean isEof() {
        return !content().isReadable();
    }

    @Override
    public DataFrame replace(ByteBuf content) {
        return new DataFrame(stream, content);
    }

    @Override
    public DataFrame retain() {
        super.retain();
        return this;
    }

    @Override
    public DataFrame retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public String toString() {
        return "DataFrame[" + stream + ", " + content().readableBytes() + " bytes]";
    }
}
