package dev.qrexec.xen.sim;

import java.time.Duration;
import java.time.Instant;

/**
 * The single thread of control a {@link SimHypervisor} runs on, and its notion of time.
 *
 * <p>All of a sim backend's state is owned by the tasks this scheduler runs: tasks never run
 * concurrently with each other, and they run in the order they became due (ties: submission
 * order). Two implementations: {@link RealTimeScheduler} (one daemon thread, wall-clock delays)
 * and {@link ManualScheduler} (time moves only when a test calls {@link ManualScheduler#advance}).
 */
public interface SimScheduler extends AutoCloseable {

    /** The current time on this scheduler's clock; stamps life-cycle events. */
    Instant now();

    /** Runs {@code task} as soon as possible, after the tasks already due. */
    void execute(Runnable task);

    /** Runs {@code task} once {@code delay} has passed on this scheduler's clock. */
    Cancellable schedule(Duration delay, Runnable task);

    /** Stops running tasks; tasks not yet run are dropped. */
    @Override
    void close();

    /** A scheduled task that can still be withdrawn. */
    interface Cancellable {
        /** Withdraws the task if it has not run yet; does nothing otherwise. */
        void cancel();
    }
}
