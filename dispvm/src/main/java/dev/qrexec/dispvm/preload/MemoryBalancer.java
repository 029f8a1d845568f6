package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.xen.Hypervisor;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Brings a preload down to its preferred memory before it is paused (spec 4.2), one qube at a time
 * as qmemman does, but with a hard per-qube timeout so a slow qube cannot hold the others back past it.
 *
 * <p>Preferred memory = {@code max(min(used × 1.3, maxmem), 200 MiB)}, {@code used} as the guest
 * reports it through {@link MemoryReleaser}; like qmemman, the target is recomputed from a fresh
 * report every {@code recomputeEvery} polls. Polls every {@code poll}; stops when the qube is within
 * {@code tolerance} × target ("converged"), or after {@code slowAfter} when it released less than
 * {@code slowBytesPerSecond} over the last second ("slow"), or at {@code timeout}. A claim cancels it.
 *
 * <p>Threads: jobs wait in a bounded FIFO; the running job's polls run on the given scheduler. The
 * queue and the busy flag are guarded by this object's monitor (held for no I/O).
 */
public final class MemoryBalancer {

    private static final System.Logger LOG = System.getLogger(MemoryBalancer.class.getName());
    private static final long MIB = 1L << 20;

    /** How a balloon request ended. Every outcome lets the pause go ahead, except {@link #CANCELLED}. */
    public enum Outcome { CONVERGED, SLOW_TRANSFER, TIMED_OUT, NOT_REPORTED, CANCELLED, FAILED, QUEUE_FULL }

    /** Where the balancer's time comes from: the engine's scheduler, or a test's manual clock. */
    public interface Clock {
        long nanoTime();

        void schedule(Duration delay, Runnable task);

        static Clock of(ScheduledExecutorService scheduler) {
            return new Clock() {
                @Override
                public long nanoTime() {
                    return System.nanoTime();
                }

                @Override
                public void schedule(Duration delay, Runnable task) {
                    scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                }
            };
        }
    }

    /** qmemman re-evaluates the preferred size every this many polls. */
    public static final int RECOMPUTE_EVERY = 10;

    /** Stop conditions; {@link #qubesDefaults()} are qmemman's. */
    public record Limits(Duration poll, Duration slowAfter, long slowBytesPerSecond, double tolerance,
                         long floorBytes, double usedFactor, Duration timeout, int maxQueued) {
        public Limits {
            Objects.requireNonNull(poll, "poll");
            Objects.requireNonNull(slowAfter, "slowAfter");
            Objects.requireNonNull(timeout, "timeout");
            if (poll.isZero() || poll.isNegative()) {
                throw new IllegalArgumentException("poll must be positive, was " + poll);
            }
            if (tolerance < 1.0) {
                throw new IllegalArgumentException("tolerance must be at least 1.0, was " + tolerance);
            }
            if (maxQueued < 1) {
                throw new IllegalArgumentException("maxQueued must be at least 1, was " + maxQueued);
            }
        }

        public static Limits qubesDefaults() {
            return new Limits(Duration.ofMillis(100), Duration.ofSeconds(3), 100 * MIB, 1.1, 200 * MIB, 1.3,
                    Duration.ofSeconds(10), 64);
        }
    }

    private final Hypervisor hypervisor;
    private final MemoryReleaser releaser;
    private final Limits limits;
    private final Clock clock;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    /** The job being served; null when idle. */
    private Job running;

    public MemoryBalancer(Hypervisor hypervisor, MemoryReleaser releaser, Limits limits,
                          ScheduledExecutorService scheduler) {
        this(hypervisor, releaser, limits, Clock.of(scheduler));
    }

    public MemoryBalancer(Hypervisor hypervisor, MemoryReleaser releaser, Limits limits, Clock clock) {
        this.hypervisor = hypervisor;
        this.releaser = releaser;
        this.limits = limits;
        this.clock = clock;
    }

    private final class Job {
        final String qube;
        final CompletableFuture<?> cancel;
        final CompletableFuture<Outcome> result = new CompletableFuture<>();
        final ArrayDeque<long[]> samples = new ArrayDeque<>();
        long startNanos;
        long target;
        /** Polls so far; every {@link #RECOMPUTE_EVERY}th recomputes the target first. */
        int polls;
        /** Targets set, in order (first one included). */
        final java.util.List<Long> targets = new java.util.ArrayList<>();

        Job(String qube, CompletableFuture<?> cancel) {
            this.qube = qube;
            this.cancel = cancel;
        }
    }

    /** Queues a balloon request for {@code qube}; {@code cancel} completing (a claim) ends it at once. */
    public CompletableFuture<Outcome> balloon(String qube, CompletableFuture<?> cancel) {
        Job job = new Job(qube, cancel);
        boolean runNow;
        synchronized (this) {
            if (queue.size() >= limits.maxQueued()) {
                LOG.log(System.Logger.Level.WARNING, "memory request for {0} dropped: {1} already queued",
                        qube, queue.size());
                return CompletableFuture.completedFuture(Outcome.QUEUE_FULL);
            }
            runNow = running == null;
            if (runNow) {
                running = job;
            } else {
                queue.addLast(job);
            }
        }
        cancel.whenComplete((v, e) -> job.result.complete(Outcome.CANCELLED));
        // Only the end of the job being served starts the next; a queued job that is cancelled just
        // gets skipped when its turn comes.
        job.result.whenComplete((o, e) -> next(job));
        if (runNow) {
            run(job);
        }
        return job.result;
    }

    /** Requests waiting behind the running one. */
    public synchronized int queued() {
        return queue.size();
    }

    private void next(Job finished) {
        Job job;
        synchronized (this) {
            if (running != finished) {
                return;
            }
            job = queue.pollFirst();
            while (job != null && job.result.isDone()) {
                job = queue.pollFirst();
            }
            running = job;
            if (job == null) {
                return;
            }
        }
        run(job);
    }

    private void run(Job job) {
        if (job.result.isDone()) {
            return;
        }
        job.startNanos = clock.nanoTime();
        CompletableFuture<OptionalLong> used;
        try {
            used = releaser.release(job.qube);
        } catch (RuntimeException e) {
            used = CompletableFuture.failedFuture(e);
        }
        used.orTimeout(limits.timeout().toMillis(), TimeUnit.MILLISECONDS).whenComplete((u, e) -> {
            if (e != null) {
                finish(job, Outcome.FAILED, e.toString());
                return;
            }
            if (u.isEmpty()) {
                finish(job, Outcome.NOT_REPORTED, "no memory report");
                return;
            }
            retarget(job, u.getAsLong(), () -> check(job));
        });
    }

    /** Sets the preferred memory for {@code used} bytes (if it changed), then runs {@code next}. */
    private void retarget(Job job, long used, Runnable next) {
        try {
            long max = hypervisor.memory(job.qube).maxBytes();
            long target = Math.max(Math.min((long) (used * limits.usedFactor()), max), limits.floorBytes());
            if (target == job.target) {
                next.run();
                return;
            }
            job.target = target;
            job.targets.add(target);
            hypervisor.setMemoryTarget(job.qube, target).whenComplete((v, e2) -> {
                if (e2 != null) {
                    finish(job, Outcome.FAILED, e2.toString());
                } else {
                    next.run();
                }
            });
        } catch (RuntimeException ex) {
            finish(job, Outcome.FAILED, ex.toString());
        }
    }

    /** One poll: every {@link #RECOMPUTE_EVERY}th first re-reads the guest's usage (qmemman's rule). */
    private void poll(Job job) {
        if (job.result.isDone()) {
            return;
        }
        if (++job.polls % RECOMPUTE_EVERY != 0) {
            check(job);
            return;
        }
        CompletableFuture<OptionalLong> used;
        try {
            used = releaser.usage(job.qube);
        } catch (RuntimeException e) {
            used = CompletableFuture.failedFuture(e);
        }
        used.orTimeout(limits.poll().toMillis() * RECOMPUTE_EVERY, TimeUnit.MILLISECONDS).whenComplete((u, e) -> {
            if (e != null || u.isEmpty()) {
                // A missed report keeps the last target, as qmemman keeps the last meminfo.
                check(job);
            } else {
                retarget(job, u.getAsLong(), () -> check(job));
            }
        });
    }

    /** Reads the qube's memory and stops or schedules the next poll. */
    private void check(Job job) {
        if (job.result.isDone()) {
            return;
        }
        long now = clock.nanoTime();
        long current;
        try {
            current = hypervisor.memory(job.qube).currentBytes();
        } catch (RuntimeException e) {
            finish(job, Outcome.FAILED, e.toString());
            return;
        }
        long elapsed = now - job.startNanos;
        if (current <= job.target * limits.tolerance()) {
            finish(job, Outcome.CONVERGED, "at " + current / MIB + " MiB, target " + job.target / MIB + " MiB");
            return;
        }
        job.samples.addLast(new long[] {now, current});
        while (job.samples.size() > 1 && now - job.samples.peekFirst()[0] > TimeUnit.SECONDS.toNanos(1)) {
            job.samples.pollFirst();
        }
        if (elapsed >= limits.timeout().toNanos()) {
            finish(job, Outcome.TIMED_OUT, "still " + current / MIB + " MiB after " + limits.timeout());
            return;
        }
        if (elapsed >= limits.slowAfter().toNanos()) {
            long[] oldest = job.samples.peekFirst();
            double seconds = Math.max(1e-3, (now - oldest[0]) / 1e9);
            double rate = (oldest[1] - current) / seconds;
            if (rate < limits.slowBytesPerSecond()) {
                finish(job, Outcome.SLOW_TRANSFER, String.format("releasing %.0f MiB/s, at %d MiB",
                        rate / MIB, current / MIB));
                return;
            }
        }
        clock.schedule(limits.poll(), () -> poll(job));
    }

    private void finish(Job job, Outcome outcome, String detail) {
        if (job.result.complete(outcome)) {
            LOG.log(System.Logger.Level.DEBUG, "balloon {0}: {1} ({2}; targets {3})", job.qube, outcome, detail,
                    job.targets);
        }
    }
}
