package dev.qrexec.broker.daemon;

/**
 * Keeps one qube from flooding the broker's log: at most {@code perSecond} lines per one-second
 * window; the lines dropped are counted and reported with the next line let through.
 * Thread-safe (a tiny critical section, no I/O under the lock).
 */
final class LogThrottle {

    private final int perSecond;
    private long windowStart;
    private int inWindow;
    private long suppressed;

    LogThrottle(int perSecond) {
        this.perSecond = perSecond;
    }

    /**
     * -1 if this line must be dropped; otherwise how many lines were dropped before it.
     */
    synchronized long admit(long nowNanos) {
        if (nowNanos - windowStart >= 1_000_000_000L) {
            windowStart = nowNanos;
            inWindow = 0;
        }
        if (inWindow >= perSecond) {
            suppressed++;
            return -1;
        }
        inWindow++;
        long dropped = suppressed;
        suppressed = 0;
        return dropped;
    }
}
