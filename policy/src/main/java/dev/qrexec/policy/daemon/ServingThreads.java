package dev.qrexec.policy.daemon;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Platform threads that each accept a connection with a blocking {@code accept()} and serve it
 * inline: read the request, answer, write, close; then accept the next one.
 *
 * <p>Why threads and blocking calls: one request per connection makes the connection's set-up and
 * tear-down the whole cost. A blocking accept-read-write-close needs no readiness registration
 * (epoll_ctl) and no hand-off between threads; the thread that accepted the connection is the one
 * that answers it.
 *
 * <p>How a slow client is kept from holding the others up: a serving thread blocked in a read is
 * noticed by the {@link Watchdog} (owned by this class), which adds a thread when nobody is
 * accepting (so the others are served meanwhile), and closes the connection at its deadline (which
 * aborts the blocked read). A
 * thread beyond {@code coreThreads} retires as soon as it has served and another is accepting. At
 * most {@code maxConnections} connections are served at once; one more thread may exist only to
 * close, without a reply, a connection beyond that limit.
 *
 * <p>Threads and state: each {@link Worker} owns its {@link RequestInput}; its {@code current}
 * connection is published for the watchdog. The counters are shared and atomic; no lock is taken
 * by this class (the JDK serialises concurrent accepts on the listening channel).
 */
final class ServingThreads {

    private static final System.Logger LOG = System.getLogger(ServingThreads.class.getName());
    /** The direct read buffer of each thread: a usual request fits several times over. */
    private static final int BUFFER_BYTES = 4096;
    /** Stack of a serving thread: parsing and evaluation are shallow. */
    private static final long STACK_BYTES = 512 * 1024;

    private final ServerSocketChannel listener;
    private final SocketProtocol protocol;
    private final int coreThreads;
    private final int maxConnections;
    private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger live = new AtomicInteger();
    private final AtomicInteger accepting = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger nextId = new AtomicInteger();
    private final AtomicInteger added = new AtomicInteger();
    private final Watchdog watchdog;
    private volatile boolean closed;

    /** @param readTimeoutNanos how long after accept a connection is closed if still open */
    ServingThreads(ServerSocketChannel listener, SocketProtocol protocol, int coreThreads, int maxConnections,
                   long readTimeoutNanos) {
        this.listener = listener;
        this.protocol = protocol;
        this.coreThreads = coreThreads;
        this.maxConnections = maxConnections;
        this.watchdog = new Watchdog(this, protocol.name(), readTimeoutNanos);
    }

    void start() {
        for (int i = 0; i < coreThreads; i++) {
            live.incrementAndGet();
            startWorker();
        }
        watchdog.start();
    }

    /** The watchdog thread's state (for tests: an idle server's watchdog waits without a timeout). */
    Thread.State watchdogState() {
        return watchdog.state();
    }

    /** Whether any thread is serving a connection right now. */
    boolean anyConnection() {
        for (Worker w : workers) {
            if (w.current != null) {
                return true;
            }
        }
        return false;
    }

    /** Connections being served right now. */
    int openConnections() {
        return open.get();
    }

    /** Serving threads alive right now (for status and tests). */
    int threads() {
        return live.get();
    }

    /** Threads added so far because every thread was held by a connection for long. */
    int threadsAdded() {
        return added.get();
    }

    /** The threads, for the watchdog to look at their connections. */
    Iterable<Worker> workers() {
        return workers;
    }

    /**
     * Adds a thread if none is waiting to accept and the limit allows (called by the watchdog when
     * a connection has held its thread for long). Returns whether one was added.
     */
    boolean addThreadIfNoneAccepting() {
        while (!closed && accepting.get() == 0) {
            int n = live.get();
            if (n > maxConnections) {
                return false;
            }
            if (live.compareAndSet(n, n + 1)) {
                added.incrementAndGet();
                LOG.log(Level.DEBUG, "{0}: every thread is busy with a slow connection; adding thread {1}",
                        protocol.name(), n + 1);
                return startWorker();
            }
        }
        return false;
    }

    /**
     * Starts threads up to the core count again if some ended unexpectedly (an {@link Error} in a
     * serving thread): without this, losing the last one would leave the socket unserved.
     */
    void restoreCore() {
        while (!closed) {
            int n = live.get();
            if (n >= coreThreads) {
                return;
            }
            if (live.compareAndSet(n, n + 1)) {
                LOG.log(Level.WARNING, "{0}: {1} of {2} serving threads left; starting another", protocol.name(), n, coreThreads);
                if (!startWorker()) {
                    return; // tried again at the next scan
                }
            }
        }
    }

    /**
     * Stops: no connection is accepted any more, connections being served are closed, threads end
     * (waits up to {@code timeout} for them).
     */
    void close(long timeout, TimeUnit unit) {
        closed = true;
        watchdog.stop();
        try {
            listener.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, protocol.name() + ": closing the listening socket failed", e);
        }
        for (Worker w : workers) {
            Connection c = w.current;
            if (c != null) {
                c.close();
            }
        }
        for (Worker w : workers) {
            // A thread waiting for an asynchronous reply is not woken by closing its channel.
            w.thread.interrupt();
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Worker w : workers) {
            long left = deadline - System.nanoTime();
            try {
                w.thread.join(Math.max(TimeUnit.NANOSECONDS.toMillis(left), 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Starts a thread already counted in {@code live}; uncounts it (and returns false) if the JVM cannot. */
    private boolean startWorker() {
        Worker w = new Worker();
        workers.add(w);
        try {
            w.thread.start();
            return true;
        } catch (OutOfMemoryError e) {
            // "unable to create native thread": the others go on; the watchdog retries when needed.
            workers.remove(w);
            live.decrementAndGet();
            LOG.log(Level.ERROR, "{0}: cannot start a serving thread: {1}", protocol.name(), e.getMessage());
            return false;
        }
    }

    /** One serving thread. */
    final class Worker implements Runnable {
        final Thread thread;
        private final RequestInput input = new RequestInput(BUFFER_BYTES);
        /** The connection being served, or null; written by this thread, read by the watchdog. */
        volatile Connection current;

        Worker() {
            this.thread = new Thread(null, this, "qrexec-" + protocol.name() + "-" + nextId.incrementAndGet(), STACK_BYTES);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            boolean counted = true;
            try {
                while (!closed) {
                    SocketChannel channel = accept();
                    if (channel == null) {
                        continue;
                    }
                    serve(channel);
                    if (retire()) {
                        counted = false;
                        return;
                    }
                }
            } catch (ClosedChannelException e) {
                // The server is closing (accept was aborted, or the channel was already closed).
            } catch (Error e) {
                LOG.log(Level.ERROR, protocol.name() + ": serving thread failed", e);
                throw e;
            } finally {
                if (counted) {
                    live.decrementAndGet();
                }
                workers.remove(this);
                if (!closed) {
                    // Replaced by the watchdog if this thread was needed (see restoreCore).
                    watchdog.connectionStarted();
                }
            }
        }

        /** The next connection; null after a failure that is worth retrying. */
        private SocketChannel accept() throws ClosedChannelException {
            accepting.incrementAndGet();
            try {
                return listener.accept();
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                // E.g. out of file descriptors: say so, and do not spin while it lasts.
                LOG.log(Level.WARNING, "{0}: accept failed: {1}; retrying in 10 ms", protocol.name(), e.getMessage());
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                return null;
            } finally {
                accepting.decrementAndGet();
            }
        }

        private void serve(SocketChannel channel) {
            int now = open.incrementAndGet();
            Connection connection = new Connection(channel, System.nanoTime());
            try {
                if (now > maxConnections) {
                    LOG.log(Level.WARNING, "{0}: {1} connections open, limit is {2}; closing the newest without a reply",
                            protocol.name(), now, maxConnections);
                    return;
                }
                current = connection;
                if (closed) {
                    return;
                }
                watchdog.connectionStarted();
                byte[] reply = protocol.answer(input.reset(channel), connection);
                ByteBuffer out = ByteBuffer.wrap(reply);
                while (out.hasRemaining()) {
                    channel.write(out);
                }
            } catch (MalformedRequestException e) {
                LOG.log(Level.WARNING, "{0}: closing without reply, malformed request: {1}", protocol.name(), e.getMessage());
            } catch (IOException e) {
                if (!connection.expired && !closed) {
                    LOG.log(Level.WARNING, "{0}: connection failed, closing: {1}", protocol.name(), e.toString());
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, protocol.name() + ": answering failed; closing without reply", e);
            } finally {
                current = null;
                connection.close();
                input.reset(null);
                open.decrementAndGet();
            }
        }

        /** Whether this thread is one too many now: beyond the core, and another one is accepting. */
        private boolean retire() {
            while (accepting.get() > 0) {
                int n = live.get();
                if (n <= coreThreads) {
                    return false;
                }
                if (live.compareAndSet(n, n - 1)) {
                    return true;
                }
            }
            return false;
        }
    }
}
