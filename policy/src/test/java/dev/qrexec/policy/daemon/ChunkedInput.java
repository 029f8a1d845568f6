package dev.qrexec.policy.daemon;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * A channel that hands out given bytes at most {@code chunk} at a time, then end of input: what a
 * client that writes a request in pieces looks like to the server. Counts the reads it served.
 */
final class ChunkedInput implements ReadableByteChannel {

    private final byte[] data;
    private final int chunk;
    private int offset;
    int reads;

    ChunkedInput(String data, int chunk) {
        this.data = data.getBytes(StandardCharsets.ISO_8859_1);
        this.chunk = chunk;
    }

    /** A {@link RequestInput} over {@code data}, delivered {@code chunk} bytes per read. */
    static RequestInput of(String data, int chunk) {
        return new RequestInput(64).reset(new ChunkedInput(data, chunk));
    }

    @Override
    public int read(ByteBuffer dst) {
        reads++;
        if (offset == data.length) {
            return -1;
        }
        int n = Math.min(Math.min(chunk, dst.remaining()), data.length - offset);
        dst.put(data, offset, n);
        offset += n;
        return n;
    }

    /** Bytes not read yet. */
    int unread() {
        return data.length - offset;
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() {
    }
}
