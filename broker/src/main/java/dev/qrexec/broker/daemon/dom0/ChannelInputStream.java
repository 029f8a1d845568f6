package dev.qrexec.broker.daemon.dom0;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;

/**
 * The caller's stdin as a blocking stream for a dom0 service thread. The event loop offers chunks;
 * above {@link #HIGH} queued bytes it stops reading the channel, and the reader turns reading back
 * on below {@link #LOW}. The lock guards the queue only; channel calls happen outside it.
 */
public final class ChannelInputStream extends InputStream {

    static final int HIGH = 256 * 1024;
    static final int LOW = 64 * 1024;

    private final Channel channel;
    private final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>();
    private int queued;
    private boolean eof;
    private boolean paused;
    private boolean closed;

    public ChannelInputStream(Channel channel) {
        this.channel = channel;
    }

    /** Event loop: a stdin chunk arrived (ownership passes to this stream). */
    public void offer(ByteBuf chunk) {
        boolean pause;
        synchronized (this) {
            if (eof || closed) {
                chunk.release();
                return;
            }
            chunks.add(chunk);
            queued += chunk.readableBytes();
            pause = queued > HIGH && !paused;
            if (pause) {
                paused = true;
            }
            notifyAll();
        }
        if (pause) {
            channel.config().setAutoRead(false);
        }
    }

    /** Event loop: stdin reached EOF or the channel closed. */
    public synchronized void end() {
        eof = true;
        notifyAll();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        boolean resume = false;
        int n;
        synchronized (this) {
            while (chunks.isEmpty() && !eof && !closed) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading the caller's stdin");
                }
            }
            if (chunks.isEmpty()) {
                return -1;
            }
            ByteBuf head = chunks.peek();
            n = Math.min(len, head.readableBytes());
            head.readBytes(b, off, n);
            if (!head.isReadable()) {
                chunks.poll().release();
            }
            queued -= n;
            if (paused && queued < LOW) {
                paused = false;
                resume = true;
            }
        }
        if (resume) {
            channel.eventLoop().execute(() -> {
                channel.config().setAutoRead(true);
                channel.read();
            });
        }
        return n;
    }

    @Override
    public synchronized int available() {
        return queued;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            for (ByteBuf c; (c = chunks.poll()) != null; ) {
                c.release();
            }
            queued = 0;
            notifyAll();
        }
    }
}
