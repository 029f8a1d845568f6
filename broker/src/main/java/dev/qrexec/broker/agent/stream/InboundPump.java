package dev.qrexec.broker.agent.stream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Copies data received on a channel into a blocking {@link OutputStream} (a service's stdin, a
 * client's stdout) on a thread of its own. The queue between the event loop and that thread is
 * bounded in bytes: above {@code highWater} the channel's auto-read is turned off, below
 * {@code lowWater} it is turned back on. A peer that keeps sending past {@code hardLimit} (it
 * cannot, unless auto-read is ignored) is cut off.
 *
 * <p>Threads: {@link #offer}, {@link #finish} and {@link #abort} are called on the channel's event
 * loop; the copying thread only takes from the queue. The queue is guarded by a lock that is never
 * held while writing to the stream.
 */
public final class InboundPump {

    private static final System.Logger LOG = System.getLogger(InboundPump.class.getName());

    /** Defaults: stop reading above 256 KiB queued, resume below 64 KiB. */
    public static final int DEFAULT_HIGH = 256 * 1024;
    public static final int DEFAULT_LOW = 64 * 1024;
    /** One epoll read burst (16 reads of up to 64 KiB) can still arrive after auto-read goes off. */
    public static final int DEFAULT_HARD = DEFAULT_HIGH + 2 * 1024 * 1024;

    private final String name;
    private final Channel channel;
    private OutputStream sink;
    private final ReadThrottle throttle;
    private final int highWater;
    private final int lowWater;
    private final int hardLimit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    // Guarded by lock.
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private long queuedBytes;
    private boolean finished;
    private boolean aborted;
    private boolean paused;
    private long maxQueued;

    public InboundPump(String name, Channel channel) {
        this(name, channel, DEFAULT_HIGH, DEFAULT_LOW, DEFAULT_HARD);
    }

    public InboundPump(String name, Channel channel, int highWater, int lowWater, int hardLimit) {
        if (lowWater <= 0 || lowWater > highWater || highWater > hardLimit) {
            throw new IllegalArgumentException("need 0 < lowWater <= highWater <= hardLimit, got "
                    + lowWater + ", " + highWater + ", " + hardLimit);
        }
        this.name = name;
        this.channel = channel;
        this.throttle = ReadThrottle.of(channel);
        this.highWater = highWater;
        this.lowWater = lowWater;
        this.hardLimit = hardLimit;
    }

    /**
     * Starts copying into {@code sink} on a thread from {@code executor}. Data offered before is kept
     * (bounded as always) until then, so a channel may deliver data before its sink exists.
     */
    public InboundPump start(Executor executor, OutputStream sink) {
        this.sink = java.util.Objects.requireNonNull(sink, "sink");
        executor.execute(this::run);
        return this;
    }

    /** Completes once the sink got everything and was closed, or the pump was aborted. */
    public CompletableFuture<Void> done() {
        return done;
    }

    /**
     * Queues a chunk; takes ownership of {@code data}.
     *
     * @return false if the peer overran the hard limit (the caller should close the channel)
     */
    public boolean offer(ByteBuf data) {
        lock.lock();
        try {
            if (finished || aborted) {
                data.release();
                return !aborted;
            }
            if (queuedBytes + data.readableBytes() > hardLimit) {
                data.release();
                LOG.log(System.Logger.Level.WARNING, name + ": peer sent past the " + hardLimit
                        + "-byte limit with reading paused");
                return false;
            }
            queue.addLast(data);
            queuedBytes += data.readableBytes();
            maxQueued = Math.max(maxQueued, queuedBytes);
            if (queuedBytes > highWater && !paused) {
                paused = true;
                throttle.pause();
            }
            ready.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The stream's EOF: close the sink once the queue is drained. */
    public void finish() {
        lock.lock();
        try {
            finished = true;
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Drops whatever is queued and closes the sink (the channel went away). */
    public void abort() {
        lock.lock();
        try {
            aborted = true;
            releaseAll();
            if (paused) {
                paused = false;
                throttle.resume();
            }
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Largest number of bytes that were queued at once (for tests and benchmarks). */
    public long maxQueuedBytes() {
        lock.lock();
        try {
            return maxQueued;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        boolean sinkBroken = false;
        try {
            while (true) {
                ByteBuf next;
                boolean resume = false;
                lock.lock();
                try {
                    while (queue.isEmpty() && !finished && !aborted) {
                        ready.await();
                    }
                    if (aborted || queue.isEmpty()) {
                        break;
                    }
                    next = queue.pollFirst();
                    queuedBytes -= next.readableBytes();
                    if (paused && queuedBytes < lowWater) {
                        paused = false;
                        resume = true;
                    }
                } finally {
                    lock.unlock();
                }
                if (resume) {
                    channel.eventLoop().execute(throttle::resume);
                }
                try {
                    if (!sinkBroken) {
                        next.readBytes(sink, next.readableBytes());
                        sink.flush();
                    }
                } catch (IOException e) {
                    // The reader is gone (service exited, stdout closed). Keep draining so the peer is
                    // never stalled, as the C agent discards input nobody reads.
                    sinkBroken = true;
                    LOG.log(System.Logger.Level.DEBUG, name + ": sink closed, discarding further data: " + e);
                } finally {
                    next.release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.lock();
            try {
                releaseAll();
            } finally {
                lock.unlock();
            }
            try {
                sink.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, name + ": closing sink failed: " + e);
            }
            done.complete(null);
        }
    }

    private void releaseAll() {
        for (ByteBuf b; (b = queue.pollFirst()) != null; ) {
            b.release();
        }
        queuedBytes = 0;
    }
}
