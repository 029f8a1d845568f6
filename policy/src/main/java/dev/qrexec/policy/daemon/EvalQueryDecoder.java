package dev.qrexec.policy.daemon;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits a qrexec socket-service connection into its three parts (spec 7.2): the header
 * {@code <service>+<argument> } (up to the first space), the metadata {@code <caller> ...} (up to
 * the first NUL), and the payload: up to {@link #MAX_PAYLOAD} bytes, ending at that size or at end
 * of input. Emits one {@link RawEvalQuery}; a connection that ends before its header and metadata
 * are complete, or whose header or metadata exceed {@link #MAX_FIELD} bytes, fails.
 *
 * <p>One instance per connection; runs on that connection's event loop.
 */
public final class EvalQueryDecoder extends ByteToMessageDecoder {

    /** The payload is {@code source\0target}: 31 + 1 + 63 bytes at most, the reference reads 96. */
    public static final int MAX_PAYLOAD = 96;
    /** Header and metadata limit (asyncio's default line limit in the reference). */
    public static final int MAX_FIELD = 65_536;

    /**
     * The parts of one query, bytes as received (validated by {@link EvalQueryHandler}).
     *
     * @param header   {@code service[+argument]} without the terminating space
     * @param metadata the caller's part, without the terminating NUL
     * @param payload  {@code source\0target}, at most {@link #MAX_PAYLOAD} bytes
     */
    public record RawEvalQuery(byte[] header, byte[] metadata, byte[] payload) {
    }

    private enum State { HEADER, METADATA, PAYLOAD, DONE }

    private State state = State.HEADER;
    private byte[] header;
    private byte[] metadata;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.HEADER) {
            header = field(in, (byte) ' ');
            if (header == null) {
                return;
            }
            state = State.METADATA;
        }
        if (state == State.METADATA) {
            metadata = field(in, (byte) 0);
            if (metadata == null) {
                return;
            }
            state = State.PAYLOAD;
        }
        if (state == State.PAYLOAD && in.readableBytes() >= MAX_PAYLOAD) {
            emit(in, MAX_PAYLOAD, out);
        }
        if (state == State.DONE) {
            in.skipBytes(in.readableBytes());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(ctx, in, out);
        if (state == State.PAYLOAD) {
            emit(in, in.readableBytes(), out);
        } else if (state != State.DONE) {
            state = State.DONE;
            in.skipBytes(in.readableBytes());
            throw new CorruptedFrameException("connection ended inside the qrexec header");
        }
    }

    private byte[] field(ByteBuf in, byte terminator) {
        int end = in.indexOf(in.readerIndex(), in.writerIndex(), terminator);
        if (end < 0) {
            if (in.readableBytes() > MAX_FIELD) {
                state = State.DONE;
                in.skipBytes(in.readableBytes());
                throw new TooLongFrameException("qrexec header field longer than " + MAX_FIELD + " bytes");
            }
            return null;
        }
        byte[] bytes = ByteBufUtil.getBytes(in, in.readerIndex(), end - in.readerIndex());
        in.readerIndex(end + 1);
        return bytes;
    }

    private void emit(ByteBuf in, int length, List<Object> out) {
        byte[] payload = ByteBufUtil.getBytes(in, in.readerIndex(), length);
        in.skipBytes(length);
        state = State.DONE;
        out.add(new RawEvalQuery(header, metadata, payload));
    }
}
