package dev.qrexec.broker.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A service that is a Unix socket in the service path (spec 7.2): the agent connects, writes the
 * descriptor {@code "svc+arg source\0"} unless the config skips it, then relays bytes. There is no
 * stderr and no exit status of its own: the status is 0 once the socket reaches EOF.
 */
final class SocketService implements RunningService {

    private final SocketChannel socket;
    private final InputStream in;
    private final OutputStream out;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    private SocketService(SocketChannel socket) {
        this.socket = socket;
        // Straight on the channel, not through Channels.newInputStream/newOutputStream: those take
        // the channel's blocking lock for the whole call, so a read waiting for the service would
        // hold up the caller's input to it (JDK 17).
        this.in = new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                java.util.Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                int n = socket.read(ByteBuffer.wrap(b, off, len));
                if (n < 0) {
                    exit.complete(0);
                }
                return n;
            }
        };
        this.out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    socket.write(buf);
                }
            }

            @Override
            public void close() throws IOException {
                // Stdin EOF is a half-close; the service may still answer.
                if (socket.isOpen()) {
                    socket.shutdownOutput();
                }
            }
        };
    }

    static SocketService connect(Path path, String descriptor) throws IOException {
        SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            socket.connect(UnixDomainSocketAddress.of(path));
            if (descriptor != null) {
                byte[] d = (descriptor + "\0").getBytes(StandardCharsets.UTF_8);
                Channels.newOutputStream(socket).write(d);
            }
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new SocketService(socket);
    }

    @Override
    public OutputStream stdin() {
        return out;
    }

    @Override
    public InputStream stdout() {
        return in;
    }

    @Override
    public InputStream stderr() {
        return InputStream.nullInputStream();
    }

    @Override
    public CompletableFuture<Integer> exitStatus() {
        return exit;
    }

    @Override
    public void destroy() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is best effort: the call is over either way.
        }
        exit.complete(ExitCodes.PROBLEM);
    }
}
