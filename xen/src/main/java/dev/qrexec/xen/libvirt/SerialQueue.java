package dev.qrexec.xen.libvirt;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs one qube's tasks one at a time, in submission order, on a shared pool: at most one of its
 * tasks is in the pool at once, so a slow qube occupies one thread and never reorders its own
 * operations. Bounded: {@link #offer} refuses beyond {@code capacity} waiting tasks.
 */
final class SerialQueue {

    /** A unit of work that can also be told it will never run. */
    interface Task {
        void run();

        void reject(RejectedExecutionException cause);
    }

    private final Executor pool;
    private final int capacity;
    /** Guarded by this. */
    private final ArrayDeque<Task> waiting = new ArrayDeque<>();
    /** Guarded by this: a task of this queue is in the pool (queued or running). */
    private boolean active;

    SerialQueue(Executor pool, int capacity) {
        this.pool = pool;
        this.capacity = capacity;
    }

    /** False when {@code capacity} tasks are already waiting. */
    boolean offer(Task task) {
        synchronized (this) {
            if (waiting.size() >= capacity) {
                return false;
            }
            waiting.add(task);
            if (active) {
                return true;
            }
            active = true;
        }
        scheduleNext();
        return true;
    }

    synchronized int waiting() {
        return waiting.size();
    }

    private void scheduleNext() {
        while (true) {
            Task next;
            synchronized (this) {
                next = waiting.poll();
                if (next == null) {
                    active = false;
                    return;
                }
            }
            try {
                pool.execute(() -> {
                    try {
                        next.run();
                    } finally {
                        scheduleNext();
                    }
                });
                return;
            } catch (RejectedExecutionException e) {
                next.reject(e);  // and try the one after it: each waiting task gets an answer
            }
        }
    }
}
