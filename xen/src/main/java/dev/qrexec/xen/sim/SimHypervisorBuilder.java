package dev.qrexec.xen.sim;

import java.time.Duration;
import java.util.Objects;

/**
 * Builds a {@link SimHypervisor}. Every setting may be set once; a bad value fails at once with a
 * message that names the setting and the value. Defaults: 16 GiB host, every latency zero, balloon
 * rate 512 MiB/s moved in steps of 100 ms, 16 queued operations per qube, a real-time scheduler.
 */
public final class SimHypervisorBuilder {

    private static final long MIB = 1L << 20;

    String instanceName;
    Long hostMemoryMiB;
    Duration bootLatency;
    Duration pauseLatency;
    Duration unpauseLatency;
    Duration shutdownLatency;
    Duration killLatency;
    Long balloonBytesPerSecond;
    Duration memoryStep;
    Integer maxQueuedOperations;
    SimScheduler scheduler;

    SimHypervisorBuilder() {
    }

    /** Marks this instance's qubes and names its thread; default {@code sim}. */
    public SimHypervisorBuilder instanceName(String name) {
        requireUnset(instanceName, "instanceName");
        Objects.requireNonNull(name, "instanceName");
        if (name.isBlank()) {
            throw new IllegalArgumentException("instanceName must not be blank");
        }
        instanceName = name;
        return this;
    }

    /** Host memory available to qubes. */
    public SimHypervisorBuilder hostMemoryMiB(long mib) {
        requireUnset(hostMemoryMiB, "hostMemoryMiB");
        if (mib <= 0) {
            throw new IllegalArgumentException("hostMemoryMiB must be positive, was " + mib);
        }
        if (mib > Long.MAX_VALUE / MIB) {
            throw new IllegalArgumentException("hostMemoryMiB is too large to count in bytes: " + mib);
        }
        hostMemoryMiB = mib;
        return this;
    }

    /** Time from {@code start} to RUNNING. */
    public SimHypervisorBuilder bootLatency(Duration latency) {
        requireUnset(bootLatency, "bootLatency");
        bootLatency = requireNonNegative(latency, "bootLatency");
        return this;
    }

    public SimHypervisorBuilder pauseLatency(Duration latency) {
        requireUnset(pauseLatency, "pauseLatency");
        pauseLatency = requireNonNegative(latency, "pauseLatency");
        return this;
    }

    public SimHypervisorBuilder unpauseLatency(Duration latency) {
        requireUnset(unpauseLatency, "unpauseLatency");
        unpauseLatency = requireNonNegative(latency, "unpauseLatency");
        return this;
    }

    /** Time a cooperative qube takes to shut down; a shutdown whose timeout is shorter kills it. */
    public SimHypervisorBuilder shutdownLatency(Duration latency) {
        requireUnset(shutdownLatency, "shutdownLatency");
        shutdownLatency = requireNonNegative(latency, "shutdownLatency");
        return this;
    }

    /** Time a kill takes, and the clean-up after a crash. */
    public SimHypervisorBuilder killLatency(Duration latency) {
        requireUnset(killLatency, "killLatency");
        killLatency = requireNonNegative(latency, "killLatency");
        return this;
    }

    /** Sets boot, pause, unpause, shutdown and kill latency to the same value. */
    public SimHypervisorBuilder allLatencies(Duration latency) {
        return bootLatency(latency).pauseLatency(latency).unpauseLatency(latency)
                .shutdownLatency(latency).killLatency(latency);
    }

    /** How fast a qube's memory moves toward its target (up or down), for every qube. */
    public SimHypervisorBuilder balloonRate(long bytesPerSecond) {
        requireUnset(balloonBytesPerSecond, "balloonRate");
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("balloonRate must be positive, was " + bytesPerSecond + " bytes/s");
        }
        balloonBytesPerSecond = bytesPerSecond;
        return this;
    }

    /** Granularity of memory movement: memory moves in steps of {@code rate × step} every step. */
    public SimHypervisorBuilder memoryStep(Duration step) {
        requireUnset(memoryStep, "memoryStep");
        Objects.requireNonNull(step, "memoryStep");
        if (step.isZero() || step.isNegative()) {
            throw new IllegalArgumentException("memoryStep must be positive, was " + step);
        }
        memoryStep = step;
        return this;
    }

    /** Operations that may wait behind a running one on the same qube; more fail at once. */
    public SimHypervisorBuilder maxQueuedOperations(int max) {
        requireUnset(maxQueuedOperations, "maxQueuedOperations");
        if (max < 0) {
            throw new IllegalArgumentException("maxQueuedOperations must not be negative, was " + max);
        }
        maxQueuedOperations = max;
        return this;
    }

    /**
     * The scheduler the backend runs on, e.g. a {@link ManualScheduler}. The caller keeps
     * ownership: {@link SimHypervisor#close()} does not close it. Without one, the backend makes
     * and owns a {@link RealTimeScheduler}.
     */
    public SimHypervisorBuilder scheduler(SimScheduler value) {
        requireUnset(scheduler, "scheduler");
        scheduler = Objects.requireNonNull(value, "scheduler");
        return this;
    }

    public SimHypervisor build() {
        return new SimHypervisor(this);
    }

    long hostBytes() {
        return (hostMemoryMiB == null ? 16384 : hostMemoryMiB) * MIB;
    }

    private static void requireUnset(Object current, String setting) {
        if (current != null) {
            throw new IllegalStateException(setting + " was already set to " + current);
        }
    }

    private static Duration requireNonNegative(Duration duration, String setting) {
        Objects.requireNonNull(duration, setting);
        if (duration.isNegative()) {
            throw new IllegalArgumentException(setting + " must not be negative, was " + duration);
        }
        return duration;
    }
}
