package dev.qrexec.broker.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * Blocking streams straight on a {@link SocketChannel}, for one thread reading while another
 * writes. Not {@code Channels.newInputStream/newOutputStream}: on JDK 17 those hold the channel's
 * blocking lock for the whole call, so a read waiting for the peer blocks the write the peer is
 * waiting for. The channel itself has separate read and write locks.
 */
public final class SocketChannelStreams {

    private SocketChannelStreams() {
    }

    /** Reads from {@code channel}; {@code onEof} runs each time a read meets the end of input. */
    public static InputStream input(SocketChannel channel, Runnable onEof) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(onEof, "onEof");
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                int n = channel.read(ByteBuffer.wrap(b, off, len));
                if (n < 0) {
                    onEof.run();
                }
                return n;
            }
        };
    }

    /** Writes to {@code channel}; closing the stream half-closes the socket (the peer may still answer). */
    public static OutputStream output(SocketChannel channel) {
        Objects.requireNonNull(channel, "channel");
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }

            @Override
            public void close() throws IOException {
                if (channel.isOpen()) {
                    channel.shutdownOutput();
                }
            }
        };
    }
}
