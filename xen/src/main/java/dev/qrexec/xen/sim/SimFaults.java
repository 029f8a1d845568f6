package dev.qrexec.xen.sim;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * Faults and per-qube quirks to inject into a {@link SimHypervisor}. Obtain with
 * {@link SimHypervisor#faults()}. Thread-safe: tests set faults from any thread; the sim thread
 * reads them when the matching operation runs. One-shot faults ({@code failStart}, {@code hangStart})
 * are used up by the start they hit; quirks ({@code ignoreShutdown}, {@code ignoreMemoryTargets},
 * latencies, rates) stay until {@link #clear()}.
 */
public final class SimFaults {

    /** A qube that dies some time after each of its starts. */
    public record DeathPlan(Duration after, String reason) {
        public DeathPlan {
            Objects.requireNonNull(after, "after");
            Objects.requireNonNull(reason, "reason");
            if (after.isNegative()) {
                throw new IllegalArgumentException("after must not be negative, was " + after);
            }
        }
    }

    private final Set<Long> failingStartNumbers = new ConcurrentSkipListSet<>();
    private final Set<String> failNextStart = ConcurrentHashMap.newKeySet();
    private final Set<String> hangNextStart = ConcurrentHashMap.newKeySet();
    private final Set<String> ignoreShutdown = ConcurrentHashMap.newKeySet();
    private final Set<String> ignoreMemoryTargets = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, Duration> bootLatency = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> balloonRate = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DeathPlan> deaths = new ConcurrentHashMap<>();
    private final StartCounter startCounter;

    SimFaults(StartCounter startCounter) {
        this.startCounter = startCounter;
    }

    /** How many starts the backend has attempted so far; read on the sim thread. */
    interface StartCounter {
        long startsSoFar();
    }

    /**
     * The {@code nth} start from now, of any qube, fails after its boot latency (1 = the next one).
     * The qube is back to halted, its memory returned, and the future fails with
     * {@link dev.qrexec.xen.HypervisorException.OperationFailed}.
     */
    public SimFaults failStart(int nth) {
        if (nth < 1) {
            throw new IllegalArgumentException("nth must be at least 1 (the next start), was " + nth);
        }
        failingStartNumbers.add(startCounter.startsSoFar() + nth);
        return this;
    }

    /** The next start of {@code qube} fails after its boot latency. */
    public SimFaults failNextStart(String qube) {
        failNextStart.add(requireName(qube));
        return this;
    }

    /** The next start of {@code qube} never completes: it stays STARTING until killed. */
    public SimFaults hangNextStart(String qube) {
        hangNextStart.add(requireName(qube));
        return this;
    }

    /** {@code qube} boots in {@code latency} instead of the backend's boot latency. */
    public SimFaults bootLatency(String qube, Duration latency) {
        bootLatency.put(requireName(qube), requireNonNegative(latency, "latency"));
        return this;
    }

    /** {@code qube} dies ({@code DIED} event with {@code reason}) {@code after} each start completes. */
    public SimFaults dieAfterStart(String qube, Duration after, String reason) {
        deaths.put(requireName(qube), new DeathPlan(after, reason));
        return this;
    }

    /** {@code qube} does not react to shutdown: every shutdown runs into its timeout and kills it. */
    public SimFaults ignoreShutdown(String qube) {
        ignoreShutdown.add(requireName(qube));
        return this;
    }

    /** {@code qube} records memory targets but its usage never moves toward them. */
    public SimFaults ignoreMemoryTargets(String qube) {
        ignoreMemoryTargets.add(requireName(qube));
        return this;
    }

    /** {@code qube} moves toward its memory target at {@code bytesPerSecond} (a slow balloon driver). */
    public SimFaults balloonRate(String qube, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bytesPerSecond must be positive, was " + bytesPerSecond);
        }
        balloonRate.put(requireName(qube), bytesPerSecond);
        return this;
    }

    /** Removes every fault and quirk. */
    public void clear() {
        failingStartNumbers.clear();
        failNextStart.clear();
        hangNextStart.clear();
        ignoreShutdown.clear();
        ignoreMemoryTargets.clear();
        bootLatency.clear();
        balloonRate.clear();
        deaths.clear();
    }

    // --- read (and consume) by the sim thread ---

    boolean consumeStartFailure(long startNumber, String qube) {
        boolean byNumber = failingStartNumbers.remove(startNumber);
        boolean byName = failNextStart.remove(qube);
        return byNumber || byName;
    }

    boolean consumeHang(String qube) {
        return hangNextStart.remove(qube);
    }

    Optional<Duration> bootLatency(String qube) {
        return Optional.ofNullable(bootLatency.get(qube));
    }

    Optional<DeathPlan> death(String qube) {
        return Optional.ofNullable(deaths.get(qube));
    }

    boolean ignoresShutdown(String qube) {
        return ignoreShutdown.contains(qube);
    }

    boolean ignoresMemoryTargets(String qube) {
        return ignoreMemoryTargets.contains(qube);
    }

    long balloonRateOr(String qube, long defaultRate) {
        return balloonRate.getOrDefault(qube, defaultRate);
    }

    private static String requireName(String qube) {
        return Objects.requireNonNull(qube, "qube");
    }

    private static Duration requireNonNegative(Duration duration, String what) {
        Objects.requireNonNull(duration, what);
        if (duration.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative, was " + duration);
        }
        return duration;
    }
}
