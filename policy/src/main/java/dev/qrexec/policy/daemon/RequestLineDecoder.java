package dev.qrexec.policy.daemon;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits a {@code policy.sock} request into ASCII lines.
 *
 * <p>Emits each line (without its {@code \n}) as a {@link String}, then {@link #END_OF_REQUEST} at
 * the first empty line or at end of input, whichever comes first; bytes after that are discarded.
 * A line longer than {@link #MAX_LINE_LENGTH} bytes raises {@link TooLongFrameException} as soon as
 * it is known to be too long (without buffering the rest), and a byte outside ASCII raises
 * {@link CorruptedFrameException}: the reference daemon fails on both (an asyncio line limit and a
 * strict ASCII decode), which closes the connection without a reply.
 *
 * <p>One instance per connection; runs on that connection's event loop.
 */
public final class RequestLineDecoder extends ByteToMessageDecoder {

    /** Marks the end of a request (empty line or end of input). */
    public static final Object END_OF_REQUEST = new Object() {
        @Override
        public String toString() {
            return "END_OF_REQUEST";
        }
    };

    /**
     * Longest accepted line, in bytes without the newline: the reference reads lines with asyncio's
     * default 64 KiB limit, and {@code service_and_arg} may legitimately be up to 65,000 bytes.
     */
    public static final int MAX_LINE_LENGTH = 65_536;

    private final int maxLineLength;
    private boolean ended;
    private boolean failed;

    public RequestLineDecoder() {
        this(MAX_LINE_LENGTH);
    }

    public RequestLineDecoder(int maxLineLength) {
        if (maxLineLength < 1) {
            throw new IllegalArgumentException("maxLineLength must be positive, was " + maxLineLength);
        }
        this.maxLineLength = maxLineLength;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (!ended && !failed && in.isReadable()) {
            int newline = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            if (newline < 0) {
                if (in.readableBytes() > maxLineLength) {
                    fail(in);
                    throw new TooLongFrameException("request line longer than " + maxLineLength + " bytes");
                }
                break;
            }
            int length = newline - in.readerIndex();
            emitLine(in, length, out);
            in.skipBytes(1);
        }
        if (ended || failed) {
            in.skipBytes(in.readableBytes());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        if (ended || failed) {
            return;
        }
        // End of input: a final line without its newline still counts, then the request ends.
        if (in.isReadable()) {
            emitLine(in, in.readableBytes(), out);
        }
        if (!ended && !failed) {
            ended = true;
            out.add(END_OF_REQUEST);
        }
    }

    private void emitLine(ByteBuf in, int length, List<Object> out) {
        if (length > maxLineLength) {
            fail(in);
            throw new TooLongFrameException("request line longer than " + maxLineLength + " bytes");
        }
        if (length == 0) {
            ended = true;
            out.add(END_OF_REQUEST);
            return;
        }
        int start = in.readerIndex();
        int nonAscii = in.forEachByte(start, length, b -> b >= 0);
        if (nonAscii >= 0) {
            fail(in);
            throw new CorruptedFrameException("non-ASCII byte at offset " + (nonAscii - start) + " of a request line");
        }
        out.add(in.toString(start, length, StandardCharsets.US_ASCII));
        in.skipBytes(length);
    }

    private void fail(ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
    }
}
