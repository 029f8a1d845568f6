package dev.qrexec.broker.daemon;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A qrexec peer played from raw frames over a real Unix socket, with blocking JDK channels, the way
 * Qubes' own socket tests play agents and clients in Python. Deliberately independent of the
 * broker's codec: frames are built and parsed by hand here.
 */
final class RawPeer implements AutoCloseable {

    static final int HELLO = 0x300, TRIGGER4 = 0x213, TRIGGER3 = 0x212, SERVICE_CONNECT = 0x202,
            SERVICE_REFUSED = 0x203, EXEC_CMDLINE = 0x200, CONNECTION_TERMINATED = 0x211,
            STDIN = 0x190, STDOUT = 0x191, STDERR = 0x192, EXIT_CODE = 0x193;

    record Frame(int type, byte[] body) {
        int intAt(int offset) {
            return ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
        }

        String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return String.format("Frame[0x%x, %d bytes]", type, body.length);
        }
    }

    final SocketChannel channel;

    RawPeer(SocketChannel channel) {
        this.channel = channel;
    }

    /** Listens on {@code path} and returns the first connection (vchan servers take exactly one). */
    static RawPeer acceptOne(Path path) throws IOException {
        try (ServerSocketChannel server = listen(path)) {
            return new RawPeer(server.accept());
        }
    }

    static ServerSocketChannel listen(Path path) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return server;
    }

    /** Connects, retrying while the listener is not there yet (as libvchan-socket clients do). */
    static RawPeer connect(Path path) throws IOException, InterruptedException {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(path));
                return new RawPeer(ch);
            } catch (IOException e) {
                ch.close();
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                Thread.onSpinWait();
            }
        }
    }

    void send(int type, byte[] body) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(body.length).put(body).flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    void sendRaw(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    Frame read() throws IOException {
        ByteBuffer h = readFully(8).order(ByteOrder.LITTLE_ENDIAN);
        int type = h.getInt();
        int len = h.getInt();
        return new Frame(type, readFully(len).array());
    }

    /** Reads a frame, failing if it is not of {@code type}. */
    Frame expect(int type) throws IOException {
        Frame f = read();
        if (f.type() != type) {
            throw new AssertionError(String.format("expected type 0x%x, got %s", type, f));
        }
        return f;
    }

    /** True if the peer closed the connection (EOF before any byte). */
    boolean atEof() throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            return channel.read(one) < 0;
        } catch (java.net.SocketException e) {
            // Closing with unread input (an oversize frame's body) resets the connection.
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("peer closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    /** HELLO exchange as a VM-side endpoint: send ours, then read theirs. */
    int hello(int version) throws IOException {
        send(HELLO, le(version));
        return expect(HELLO).intAt(0);
    }

    static byte[] le(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    static byte[] fixed(String s, int size) {
        return Arrays.copyOf(s.getBytes(StandardCharsets.ISO_8859_1), size);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] trigger4Body(String source, String target, String ident, String service) {
        return concat(fixed(source, 64), fixed(target, 64), fixed(ident, 32),
                (service + "\0").getBytes(StandardCharsets.ISO_8859_1));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
