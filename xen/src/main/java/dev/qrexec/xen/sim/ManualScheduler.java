package dev.qrexec.xen.sim;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link SimScheduler} whose clock moves only when {@link #advance} is called: exact, repeatable
 * tests of latencies and memory movement.
 *
 * <p>Tasks run on the thread that calls {@link #execute}, {@link #schedule} or {@link #advance},
 * under one lock, so they never overlap. A task that is due when it is submitted (no delay, or a
 * zero latency) runs before the submitting call returns; a task submitted from inside a running
 * task runs right after it. So {@code hypervisor.start(name)} with a zero boot latency has already
 * completed when it returns, and with a boot latency of 2 s completes inside
 * {@code advance(Duration.ofSeconds(2))}.
 */
public final class ManualScheduler implements SimScheduler {

    private static final System.Logger LOG = System.getLogger(ManualScheduler.class.getName());

    /** Where the clock starts unless told otherwise. */
    public static final Instant DEFAULT_EPOCH = Instant.parse("2026-01-01T00:00:00Z");

    private final ReentrantLock lock = new ReentrantLock();
    private final PriorityQueue<Task> queue = new PriorityQueue<>(
            Comparator.comparingLong((Task t) -> t.dueNanos).thenComparingLong(t -> t.sequence));
    private final Instant epoch;
    // Guarded by lock; volatile so that now() and elapsed() need not take it.
    private volatile long nowNanos;
    private long sequence;
    private boolean running;
    private boolean closed;

    public ManualScheduler() {
        this(DEFAULT_EPOCH);
    }

    public ManualScheduler(Instant epoch) {
        this.epoch = Objects.requireNonNull(epoch, "epoch");
    }

    @Override
    public Instant now() {
        return epoch.plusNanos(nowNanos);
    }

    /** Time passed since the epoch. */
    public Duration elapsed() {
        return Duration.ofNanos(nowNanos);
    }

    @Override
    public void execute(Runnable task) {
        schedule(Duration.ZERO, task);
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative, was " + delay);
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("manual scheduler is closed");
            }
            Task entry = new Task(nowNanos + delay.toNanos(), sequence++, task);
            queue.add(entry);
            runDue(nowNanos);
            return () -> cancel(entry);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves the clock forward by {@code step}, running every task that falls due on the way, each
     * at its own due time (so a task sees {@link #now()} equal to the time it was due).
     */
    public void advance(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("step must not be negative, was " + step);
        }
        lock.lock();
        try {
            if (running) {
                throw new IllegalStateException("advance() called from inside a scheduled task");
            }
            long target = nowNanos + step.toNanos();
            runDue(target);
            nowNanos = target;
        } finally {
            lock.unlock();
        }
    }

    /** Tasks submitted and not yet run or cancelled. */
    public int pendingTasks() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            queue.clear();
        } finally {
            lock.unlock();
        }
    }

    private void cancel(Task task) {
        lock.lock();
        try {
            queue.remove(task);
        } finally {
            lock.unlock();
        }
    }

    /** Runs due tasks in order; re-entrant submissions are picked up by the outer loop. */
    private void runDue(long limitNanos) {
        if (running) {
            return;
        }
        running = true;
        try {
            Task next;
            while ((next = queue.peek()) != null && next.dueNanos <= limitNanos) {
                queue.poll();
                nowNanos = Math.max(nowNanos, next.dueNanos);
                try {
                    next.task.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "sim task failed", e);
                }
            }
        } finally {
            running = false;
        }
    }

    private static final class Task {
        final long dueNanos;
        final long sequence;
        final Runnable task;

        Task(long dueNanos, long sequence, Runnable task) {
            this.dueNanos = dueNanos;
            this.sequence = sequence;
            this.task = task;
        }
    }
}
