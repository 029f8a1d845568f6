package dev.qrexec.policy.daemon;

import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;

/**
 * Closes the connections of one event loop that are still open {@code timeout} after they were
 * accepted: the guard against a client that connects and then sends nothing (or too little).
 *
 * <p>Why not one {@code ReadTimeoutHandler} per connection: at one connection per request that is
 * one scheduled task created and cancelled per request. Here every connection gets the same
 * timeout, so the list of open connections, appended at accept, is already in deadline order: one
 * timer per {@code granularity} window serves them all, and a closed connection unlinks itself in
 * O(1). A connection is closed between {@code timeout} and {@code timeout + granularity} after it
 * was accepted; no timer is pending while the loop has no connection.
 *
 * <p>Thread ownership: every field is read and written on {@link #loop} only (the loop that serves
 * the connections in the list). The list is bounded by the server's connection limit.
 */
final class DeadlineSweeper {

    private static final System.Logger LOG = System.getLogger(DeadlineSweeper.class.getName());

    private final EventLoop loop;
    private final long timeoutNanos;
    private final long granularityNanos;
    private RequestDeadline oldest;
    private RequestDeadline newest;
    private int size;
    private boolean sweepScheduled;

    DeadlineSweeper(EventLoop loop, long timeoutNanos) {
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeoutNanos must be positive, was " + timeoutNanos);
        }
        this.loop = loop;
        this.timeoutNanos = timeoutNanos;
        // An eighth of the timeout (at least 1 ms): closes are late by at most that, timers are rare.
        this.granularityNanos = Math.max(timeoutNanos / 8, TimeUnit.MILLISECONDS.toNanos(1));
    }

    /** Starts the clock of a connection just accepted on this loop. */
    void add(RequestDeadline connection) {
        assert loop.inEventLoop();
        connection.deadlineNanos = System.nanoTime() + timeoutNanos;
        connection.older = newest;
        connection.newer = null;
        if (newest == null) {
            oldest = connection;
        } else {
            newest.newer = connection;
        }
        newest = connection;
        connection.linked = true;
        size++;
        if (!sweepScheduled) {
            scheduleSweep(timeoutNanos + granularityNanos);
        }
    }

    /** Stops the clock of a connection (closed, or never started); does nothing if not in the list. */
    void remove(RequestDeadline connection) {
        assert loop.inEventLoop();
        if (!connection.linked) {
            return;
        }
        if (connection.older == null) {
            oldest = connection.newer;
        } else {
            connection.older.newer = connection.newer;
        }
        if (connection.newer == null) {
            newest = connection.older;
        } else {
            connection.newer.older = connection.older;
        }
        connection.older = null;
        connection.newer = null;
        connection.linked = false;
        size--;
    }

    /** Connections whose clock is running (for tests). */
    int size() {
        return size;
    }

    private void scheduleSweep(long delayNanos) {
        sweepScheduled = true;
        loop.schedule(this::sweep, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void sweep() {
        sweepScheduled = false;
        long now = System.nanoTime();
        int expired = 0;
        while (oldest != null && oldest.deadlineNanos - now <= 0) {
            RequestDeadline connection = oldest;
            remove(connection);
            connection.expire();
            expired++;
        }
        if (expired > 0) {
            LOG.log(System.Logger.Level.INFO, "policy.sock: closed {0} connection(s) without a complete request after {1} ms",
                    expired, TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        }
        if (oldest != null) {
            scheduleSweep(Math.max(oldest.deadlineNanos - now, 0) + granularityNanos);
        }
    }
}
