package dev.qrexec.broker.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Splits the byte stream into {@link RawFrame}s: 8-byte little-endian header {@code {type, len}},
 * then {@code len} bytes. The type and the length are checked as soon as the header is in, so an
 * unknown type or an oversize length never makes us buffer the body. After the first error the
 * rest of the input is discarded.
 *
 * <p>The limit may change after the handshake ({@link #maxBodyLength(int)}); it is read and written
 * on the channel's event loop only.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    private int maxBodyLength;
    private boolean failed;

    public FrameDecoder(int maxBodyLength) {
        if (maxBodyLength < 0) {
            throw new IllegalArgumentException("maxBodyLength must be >= 0, got " + maxBodyLength);
        }
        this.maxBodyLength = maxBodyLength;
    }

    /** Sets the largest body accepted from now on. */
    public void maxBodyLength(int maxBodyLength) {
        this.maxBodyLength = maxBodyLength;
    }

    public int maxBodyLength() {
        return maxBodyLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < WireLimits.HEADER_SIZE) {
            return;
        }
        int start = in.readerIndex();
        int code = in.getIntLE(start);
        long len = in.getUnsignedIntLE(start + 4);
        MessageType type = MessageType.fromCode(code);
        if (type == null) {
            fail(in, String.format("unknown message type 0x%x (len %d)", code, len));
        }
        if (len > maxBodyLength) {
            fail(in, type + " frame of " + len + " bytes exceeds the limit of " + maxBodyLength);
        }
        if (in.readableBytes() < WireLimits.HEADER_SIZE + len) {
            return;
        }
        in.skipBytes(WireLimits.HEADER_SIZE);
        out.add(new RawFrame(type, in.readRetainedSlice((int) len)));
    }

    private void fail(ByteBuf in, String reason) {
        failed = true;
        in.skipBytes(in.readableBytes());
        throw new ProtocolViolationException(reason);
    }
}
