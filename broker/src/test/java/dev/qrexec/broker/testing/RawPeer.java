package dev.qrexec.broker.testing;

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
import java.time.Duration;
import java.util.Arrays;
import org.awaitility.Awaitility;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One end of a qrexec channel driven by hand, with raw little-endian frames, as the upstream Python
 * socket tests do. A reader thread turns the byte stream into frames so reads can time out.
 */
public final class RawPeer implements AutoCloseable {

    /** A received frame; {@code type == -1} marks EOF. */
    public record Frame(int type, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }

        public int intAt(int offset) {
            return ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
        }

        @Override
        public String toString() {
            return "Frame[type=0x" + Integer.toHexString(type) + ", len=" + body.length + "]";
        }
    }

    public static final int DATA_STDIN = 0x190;
    public static final int DATA_STDOUT = 0x191;
    public static final int DATA_STDERR = 0x192;
    public static final int DATA_EXIT_CODE = 0x193;
    public static final int EXEC_CMDLINE = 0x200;
    public static final int JUST_EXEC = 0x201;
    public static final int SERVICE_CONNECT = 0x202;
    public static final int SERVICE_REFUSED = 0x203;
    public static final int CONNECTION_TERMINATED = 0x211;
    public static final int TRIGGER_SERVICE3 = 0x212;
    public static final int TRIGGER_SERVICE4 = 0x213;
    public static final int HELLO = 0x300;

    private static final Frame EOF = new Frame(-1, new byte[0]);

    private final SocketChannel socket;
    private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
    private final Thread reader;
    private volatile boolean rawMode;
    private final BlockingQueue<byte[]> rawChunks = new LinkedBlockingQueue<>();

    private final java.util.concurrent.CountDownLatch reading;

    private RawPeer(SocketChannel socket, boolean raw) {
        this(socket, raw, false);
    }

    private RawPeer(SocketChannel socket, boolean raw, boolean paused) {
        this.socket = socket;
        this.rawMode = raw;
        this.reading = new java.util.concurrent.CountDownLatch(paused ? 1 : 0);
        this.reader = new Thread(this::readLoop, "raw-peer-reader");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** Connects to {@code path}, retrying until it exists (at most {@code timeout}). */
    public static RawPeer connect(Path path, Duration timeout) {
        return connect(path, timeout, false);
    }

    /** Connects; with {@code raw}, received bytes are not parsed as frames (see {@link #readRaw}). */
    public static RawPeer connect(Path path, Duration timeout, boolean raw) {
        SocketChannel[] connected = new SocketChannel[1];
        Awaitility.await("connect to " + path).atMost(timeout).pollInterval(Duration.ofMillis(5))
                .until(() -> {
                    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    try {
                        ch.connect(UnixDomainSocketAddress.of(path));
                        connected[0] = ch;
                        return true;
                    } catch (IOException e) {
                        ch.close();
                        return false;
                    }
                });
        return new RawPeer(connected[0], raw);
    }

    /** A listener that accepts one connection. */
    public static final class Listener implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Path path;

        public Listener(Path path) throws IOException {
            this.path = path;
            Files.deleteIfExists(path);
            this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
        }

        public RawPeer accept() throws IOException {
            return new RawPeer(server.accept(), false);
        }

        /** Accepts but reads nothing until {@link #resumeReading()}: a peer that stops reading. */
        public RawPeer acceptPaused() throws IOException {
            return new RawPeer(server.accept(), false, true);
        }

        @Override
        public void close() throws IOException {
            server.close();
            Files.deleteIfExists(path);
        }
    }

    public void send(int type, byte[] body) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(body.length).put(body).flip();
        writeFully(b);
    }

    public void sendRaw(byte[] bytes) throws IOException {
        writeFully(ByteBuffer.wrap(bytes));
    }

    private void writeFully(ByteBuffer b) throws IOException {
        synchronized (socket) {
            while (b.hasRemaining()) {
                socket.write(b);
            }
        }
    }

    public void sendHello(int version) throws IOException {
        send(HELLO, le(version));
    }

    /** The next frame, or fails after {@code timeout}. EOF is a frame of type -1. */
    public Frame read(Duration timeout) throws InterruptedException {
        Frame f = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (f == null) {
            throw new AssertionError("no frame within " + timeout);
        }
        if (f == EOF) {
            frames.add(EOF); // EOF stays EOF
        }
        return f;
    }

    public Frame read() throws InterruptedException {
        return read(Duration.ofSeconds(10));
    }

    /** Reads a frame and checks its type. */
    public Frame expect(int type) throws InterruptedException {
        Frame f = read();
        if (f.type() != type) {
            throw new AssertionError("expected type 0x" + Integer.toHexString(type) + ", got " + f);
        }
        return f;
    }

    public boolean isEof(Duration timeout) throws InterruptedException {
        return read(timeout).type() == -1;
    }

    /** In raw mode: the next bytes received, or an empty array at EOF. */
    public byte[] readRaw(Duration timeout) throws InterruptedException {
        byte[] b = rawChunks.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (b == null) {
            throw new AssertionError("no bytes within " + timeout);
        }
        return b;
    }

    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Lets a peer from {@link Listener#acceptPaused()} start reading. */
    public void resumeReading() {
        reading.countDown();
    }

    private void readLoop() {
        try {
            reading.await();
            if (rawMode) {
                ByteBuffer buf = ByteBuffer.allocate(65536);
                while (true) {
                    buf.clear();
                    int n = socket.read(buf);
                    if (n < 0) {
                        break;
                    }
                    rawChunks.add(Arrays.copyOf(buf.array(), n));
                }
                rawChunks.add(new byte[0]);
                return;
            }
            ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (true) {
                header.clear();
                if (!readFully(header)) {
                    break;
                }
                header.flip();
                int type = header.getInt();
                int len = header.getInt();
                ByteBuffer body = ByteBuffer.allocate(len);
                if (!readFully(body)) {
                    break;
                }
                frames.add(new Frame(type, body.array()));
            }
        } catch (IOException e) {
            // Closed under us: report EOF.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        rawChunks.add(new byte[0]);
        frames.add(EOF);
    }

    private boolean readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (socket.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    public static byte[] le(int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    public static byte[] cstr(String s) {
        byte[] t = s.getBytes(StandardCharsets.ISO_8859_1);
        return Arrays.copyOf(t, t.length + 1);
    }

    public static byte[] fixed(String s, int size) {
        return Arrays.copyOf(s.getBytes(StandardCharsets.ISO_8859_1), size);
    }

    public static byte[] concat(byte[]... parts) {
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
}
