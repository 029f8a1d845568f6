package dev.qrexec.bench.policydaemon;

/**
 * Latencies in log-linear buckets (16 per power of two, so within ~6% of the true value), fixed
 * size whatever the number of samples. One per client thread; merged at the end.
 */
final class LatencyHistogram {

    private static final int SUB_BUCKETS = 16;
    private static final int MAX_EXPONENT = 40; // 2^40 ns ~ 18 minutes
    private final long[] counts = new long[MAX_EXPONENT * SUB_BUCKETS];
    private long total;
    private long max;

    void record(long nanos) {
        long v = Math.max(1, nanos);
        int exponent = 63 - Long.numberOfLeadingZeros(v);
        int sub = exponent < 4 ? (int) (v & (SUB_BUCKETS - 1)) : (int) ((v >>> (exponent - 4)) & (SUB_BUCKETS - 1));
        int index = Math.min(exponent * SUB_BUCKETS + sub, counts.length - 1);
        counts[index]++;
        total++;
        max = Math.max(max, nanos);
    }

    void add(LatencyHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        max = Math.max(max, other.max);
    }

    long count() {
        return total;
    }

    long max() {
        return max;
    }

    /** The smallest bucket value at or above the given quantile (0..1), in nanoseconds. */
    long quantile(double q) {
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return upperBound(i);
            }
        }
        return max;
    }

    private static long upperBound(int index) {
        int exponent = index / SUB_BUCKETS;
        int sub = index % SUB_BUCKETS;
        if (exponent < 4) {
            return Math.max(sub, 1);
        }
        return ((long) (SUB_BUCKETS + sub + 1) << (exponent - 4)) - 1;
    }
}
