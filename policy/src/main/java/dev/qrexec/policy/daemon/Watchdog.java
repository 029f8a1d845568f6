package dev.qrexec.policy.daemon;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread that looks after the serving threads of a server, so that they can block:
 * <ul>
 *   <li>a connection still open {@code readTimeout} after it was accepted (a client that sent
 *       nothing, or not a whole request) is closed without a reply, which aborts the read its
 *       thread is blocked in; not one whose request is complete and whose reply is pending (an
 *       ask: the serving thread bounds that wait itself);</li>
 *   <li>when a connection has held its thread for {@link #STALL} and no thread is accepting, a
 *       thread is added, so that a slow client delays the others by about that much only;</li>
 *   <li>a serving thread that died of an {@link Error} is replaced.</li>
 * </ul>
 *
 * <p>Why a periodic scan instead of a timer per connection: arming and cancelling a timer per
 * request costs more than the request. The scan reads one volatile field per serving thread, every
 * {@link #TICK} while any connection is open; a deadline is met late by at most a tick. With no
 * connection open the watchdog parks without a timeout (an idle daemon never wakes up): the
 * serving thread that publishes a connection unparks it ({@link #connectionStarted}), which costs
 * one volatile read per connection while the watchdog is awake.
 */
final class Watchdog implements Runnable {

    private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());
    /** How long a connection may hold its thread before another thread is added to accept. */
    static final long STALL = TimeUnit.MILLISECONDS.toNanos(10);
    static final long TICK = TimeUnit.MILLISECONDS.toNanos(5);

    private final ServingThreads threads;
    private final String name;
    private final long timeoutNanos;
    private final Thread thread;
    private volatile boolean stopped;
    /** True while parked without a timeout; cleared by whoever wakes it. */
    private volatile boolean dozing;

    Watchdog(ServingThreads threads, String name, long timeoutNanos) {
        this.threads = threads;
        this.name = name;
        this.timeoutNanos = timeoutNanos;
        this.thread = new Thread(this, "qrexec-" + name + "-watchdog");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Thread.State state() {
        return thread.getState();
    }

    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Called by a serving thread after publishing its connection (or when it dies). Together with
     * the re-check in {@link #run} before parking, this never misses a connection: either the
     * watchdog sees the connection, or the serving thread sees {@code dozing} and unparks it.
     */
    void connectionStarted() {
        if (dozing) {
            dozing = false;
            LockSupport.unpark(thread);
        }
    }

    @Override
    public void run() {
        while (!stopped) {
            if (scan(System.nanoTime())) {
                LockSupport.parkNanos(this, TICK);
                continue;
            }
            dozing = true;
            if (threads.anyConnection() || stopped) {
                dozing = false;
                continue;
            }
            LockSupport.park(this);
            dozing = false;
        }
    }

    /** One look at every serving thread; returns whether any connection is being served. */
    boolean scan(long now) {
        boolean busy = false;
        boolean stalled = false;
        int expired = 0;
        for (ServingThreads.Worker w : threads.workers()) {
            Connection c = w.current;
            if (c == null) {
                continue;
            }
            busy = true;
            long age = now - c.acceptedNanos;
            if (age >= timeoutNanos && !c.replyPending) {
                if (c.expire()) {
                    expired++;
                }
            } else if (age >= STALL) {
                stalled = true;
            }
        }
        if (expired > 0) {
            LOG.log(Level.INFO, "{0}: closed {1} connection(s) without a complete request after {2} ms",
                    name, expired, TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        }
        if (stalled) {
            threads.addThreadIfNoneAccepting();
        }
        threads.restoreCore();
        return busy;
    }
}
