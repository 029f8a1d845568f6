package dev.qrexec.broker.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed-size byte ring between one writer thread and one reader thread: the streams of a Java
 * service. A full pipe blocks the writer, an empty one the reader; memory never grows. Unlike
 * {@link java.io.PipedInputStream} it does not depend on which threads are alive.
 */
public final class BoundedPipe {

    private final byte[] ring;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    // Guarded by lock.
    private int head;
    private int count;
    private boolean writerClosed;
    private boolean readerClosed;

    public BoundedPipe(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.ring = new byte[capacity];
    }

    private final Input in = new Input() {
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
            lock.lock();
            try {
                while (count == 0) {
                    if (writerClosed || readerClosed) {
                        return -1;
                    }
                    await(notEmpty);
                }
                int n = Math.min(len, count);
                int first = Math.min(n, ring.length - head);
                System.arraycopy(ring, head, b, off, first);
                System.arraycopy(ring, 0, b, off + first, n - first);
                head = (head + n) % ring.length;
                count -= n;
                notFull.signalAll();
                return n;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public int available() {
            lock.lock();
            try {
                return count;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                readerClosed = true;
                count = 0;
                notFull.signalAll();
                notEmpty.signalAll();
            } finally {
                lock.unlock();
            }
        }
    };

    private final Output out = new Output() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            lock.lock();
            try {
                while (len > 0) {
                    if (writerClosed) {
                        throw new IOException("pipe closed for writing");
                    }
                    if (readerClosed) {
                        throw new IOException("pipe reader closed");
                    }
                    if (count == ring.length) {
                        await(notFull);
                        continue;
                    }
                    int n = Math.min(len, ring.length - count);
                    int tail = (head + count) % ring.length;
                    int first = Math.min(n, ring.length - tail);
                    System.arraycopy(b, off, ring, tail, first);
                    System.arraycopy(b, off + first, ring, 0, n - first);
                    count += n;
                    off += n;
                    len -= n;
                    notEmpty.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            lock.lock();
            try {
                writerClosed = true;
                notEmpty.signalAll();
            } finally {
                lock.unlock();
            }
        }
    };

    /** The reading end; closing it makes further writes fail. */
    public abstract static class Input extends InputStream {
        @Override
        public abstract void close();
    }

    /** The writing end; closing it is EOF for the reader once the ring is drained. */
    public abstract static class Output extends OutputStream {
        @Override
        public abstract void close();
    }

    public Input input() {
        return in;
    }

    public Output output() {
        return out;
    }

    private static void await(Condition c) throws InterruptedIOException {
        try {
            c.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on a pipe");
        }
    }
}
