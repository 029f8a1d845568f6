package dev.qrexec.dispvm.preload;

import java.time.Duration;
import java.util.Objects;

/**
 * The engine's fixed delays (spec 2.11). The per-template refill delay after a use is the
 * {@code preload-dispvm-delay} feature, not here; the startup wait is the template's
 * {@code qrexec_timeout}.
 *
 * @param requestRefillMin   minimum delay of the refill a request schedules when it sees a gap (5 s)
 * @param cleanupDelay       delay before cleaning a preload discarded during a request (2 s)
 * @param propertyRefresh    refill delay after preloads were discarded for a template property change (30 s)
 * @param shutdownRefresh    refill delay after a template (or its TemplateVM) halted (4 s)
 * @param claimWaitFactor    a caller waits for an unfinished preload up to this × qrexec_timeout (1.2)
 * @param killGrace          how long a cleanup waits for the qube's operation in flight before killing
 * @param uplinkWait         how long the use step waits for {@code qubes.WaitForNetworkUplink} after applying a
 *                           deferred netvm change (10 s)
 */
public record PreloadTimings(Duration requestRefillMin, Duration cleanupDelay, Duration propertyRefresh,
                             Duration shutdownRefresh, double claimWaitFactor, Duration killGrace,
                             Duration uplinkWait) {

    public PreloadTimings {
        Objects.requireNonNull(requestRefillMin, "requestRefillMin");
        Objects.requireNonNull(cleanupDelay, "cleanupDelay");
        Objects.requireNonNull(propertyRefresh, "propertyRefresh");
        Objects.requireNonNull(shutdownRefresh, "shutdownRefresh");
        Objects.requireNonNull(killGrace, "killGrace");
        Objects.requireNonNull(uplinkWait, "uplinkWait");
        if (uplinkWait.isNegative() || uplinkWait.isZero()) {
            throw new IllegalArgumentException("uplinkWait must be positive, was " + uplinkWait);
        }
        if (claimWaitFactor <= 0) {
            throw new IllegalArgumentException("claimWaitFactor must be positive, was " + claimWaitFactor);
        }
    }

    /** The values Qubes OS uses. */
    public static PreloadTimings qubesDefaults() {
        return new PreloadTimings(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(30),
                Duration.ofSeconds(4), 1.2, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /** Everything immediate: for tests and benchmarks that do not want to wait. */
    public static PreloadTimings immediate() {
        return new PreloadTimings(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, 1.2,
                Duration.ofSeconds(2), Duration.ofSeconds(10));
    }

    /** These timings with another uplink wait. */
    public PreloadTimings withUplinkWait(Duration wait) {
        return new PreloadTimings(requestRefillMin, cleanupDelay, propertyRefresh, shutdownRefresh, claimWaitFactor,
                killGrace, wait);
    }
}
