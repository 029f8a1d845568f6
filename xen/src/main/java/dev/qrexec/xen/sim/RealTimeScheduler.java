package dev.qrexec.xen.sim;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** A {@link SimScheduler} on one daemon thread with wall-clock delays. */
public final class RealTimeScheduler implements SimScheduler {

    private static final System.Logger LOG = System.getLogger(RealTimeScheduler.class.getName());

    private final ScheduledThreadPoolExecutor executor;

    /** @param threadName name of the one thread; shows up in thread dumps and logs */
    public RealTimeScheduler(String threadName) {
        Objects.requireNonNull(threadName, "threadName");
        executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public void execute(Runnable task) {
        executor.execute(guarded(task));
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        ScheduledFuture<?> future = executor.schedule(guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    /**
     * Stops after the tasks already submitted for immediate execution have run (so a backend's
     * last "fail what is in flight" task still runs); delayed tasks are dropped.
     */
    @Override
    public void close() {
        try {
            executor.execute(executor::shutdown);
        } catch (RejectedExecutionException alreadyStopped) {
            // closed twice: nothing left to do
        }
    }

    /** A task that throws must not kill the only thread, nor go unnoticed. */
    private static Runnable guarded(Runnable task) {
        Objects.requireNonNull(task, "task");
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "sim task failed", e);
            }
        };
    }
}
