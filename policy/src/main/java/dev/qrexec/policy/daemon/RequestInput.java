package dev.qrexec.policy.daemon;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of one request, read from a blocking channel only as far as the protocol asks: a
 * field up to a delimiter byte (bounded in length), or up to a number of bytes.
 *
 * <p>The common request (about a hundred bytes, written at once by the client) arrives in the
 * first read. The buffer starts at the thread's own direct buffer, so reads copy nothing; a longer
 * field grows a heap buffer for this request only, never beyond the field limit plus one byte, so a
 * client cannot make the server hold more than that.
 *
 * <p>Not thread-safe: one instance per serving thread, {@link #reset reset} for each connection.
 */
final class RequestInput {

    private final ByteBuffer own;
    private ByteBuffer buffer;
    private ReadableByteChannel channel;
    private boolean eof;

    /** @param initialCapacity bytes of the thread's direct buffer (a whole usual request) */
    RequestInput(int initialCapacity) {
        this.own = ByteBuffer.allocateDirect(initialCapacity);
    }

    /** Starts reading a new connection. */
    RequestInput reset(ReadableByteChannel channel) {
        this.channel = channel;
        this.eof = false;
        this.buffer = own;
        buffer.clear().flip();
        return this;
    }

    /**
     * Reads until {@code delimiter} and returns its offset from the current position, reading more
     * as needed; or -1 if the input ends first (what remains is then {@link #available()}).
     *
     * @throws MalformedRequestException if more than {@code maxLength} bytes come before the
     *                                   delimiter (known as soon as they have arrived)
     */
    int find(byte delimiter, int maxLength, String what) throws IOException, MalformedRequestException {
        int scanned = 0;
        while (true) {
            int start = buffer.position();
            for (int i = start + scanned, end = buffer.limit(); i < end; i++) {
                if (buffer.get(i) == delimiter) {
                    if (i - start > maxLength) {
                        throw tooLong(what, maxLength);
                    }
                    return i - start;
                }
            }
            scanned = buffer.remaining();
            if (scanned > maxLength) {
                throw tooLong(what, maxLength);
            }
            if (!fill(maxLength + 1)) {
                return -1;
            }
        }
    }

    /** Reads until {@code length} bytes are available or the input ends; returns how many are available. */
    int require(int length) throws IOException {
        while (buffer.remaining() < length && fill(length)) {
            // keep reading
        }
        return Math.min(buffer.remaining(), length);
    }

    /** Bytes read and not yet taken. */
    int available() {
        return buffer.remaining();
    }

    /**
     * Takes {@code length} bytes as ASCII text.
     *
     * @throws MalformedRequestException at the first byte outside ASCII
     */
    String takeAscii(int length, String what) throws MalformedRequestException {
        int start = buffer.position();
        for (int i = 0; i < length; i++) {
            if (buffer.get(start + i) < 0) {
                throw new MalformedRequestException("non-ASCII byte at offset " + i + " of " + what);
            }
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Takes {@code length} bytes as they are. */
    byte[] take(int length) {
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return bytes;
    }

    /** Skips {@code length} bytes (a delimiter). */
    void skip(int length) {
        buffer.position(buffer.position() + length);
    }

    /** One more read; false at end of input. Grows the buffer (up to {@code atMost} bytes) when full. */
    private boolean fill(int atMost) throws IOException {
        if (eof) {
            return false;
        }
        buffer.compact();
        if (!buffer.hasRemaining()) {
            if (buffer.capacity() >= atMost) {
                buffer.flip();
                return false;
            }
            ByteBuffer bigger = ByteBuffer.allocate(Math.min(Math.max(buffer.capacity() * 2, 1024), atMost));
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
        int n = channel.read(buffer);
        buffer.flip();
        if (n < 0) {
            eof = true;
            return false;
        }
        return true;
    }

    private static MalformedRequestException tooLong(String what, int maxLength) {
        return new MalformedRequestException(what + " longer than " + maxLength + " bytes");
    }
}
