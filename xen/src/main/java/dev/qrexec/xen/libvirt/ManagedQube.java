package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One qube this backend owns: its spec, its libvirt UUID, its state, and the serial queue all its
 * operations run through.
 *
 * <p>Threads: {@link #state} and the memory figures are written only by tasks of this qube's
 * {@link SerialQueue} (so writes are ordered) and read by anyone (volatile). The stop bookkeeping
 * ({@code halted}, timers) is touched only by those tasks.
 */
final class ManagedQube {

    /** Most operations that may wait behind the running one. */
    static final int MAX_WAITING_OPERATIONS = 64;

    final QubeSpec spec;
    final String uuid;
    private final SerialQueue queue;

    /**
     * Set while a state re-read is queued: it reads the state as of when it runs, so it covers
     * every libvirt event that arrives before then, and a burst of events queues one re-read,
     * not one each (which would crowd out real operations).
     */
    final AtomicBoolean reconcileQueued = new AtomicBoolean();

    private volatile QubeState state;
    private volatile long targetBytes;
    private volatile long currentBytes;

    // Owned by the serial queue's tasks.
    CompletableFuture<Void> halted;
    ScheduledFuture<?> pollTimer;
    ScheduledFuture<?> killTimer;

    ManagedQube(QubeSpec spec, String uuid, QubeState state, Executor pool) {
        this.spec = spec;
        this.uuid = uuid;
        this.state = state;
        this.queue = new SerialQueue(pool, MAX_WAITING_OPERATIONS);
        this.targetBytes = spec.memoryMiB() * 1024 * 1024;
    }

    String name() {
        return spec.name();
    }

    QubeState state() {
        return state;
    }

    void state(QubeState newState) {
        state = newState;
    }

    long targetBytes() {
        return targetBytes;
    }

    void targetBytes(long bytes) {
        targetBytes = bytes;
    }

    long currentBytes() {
        return currentBytes;
    }

    void currentBytes(long bytes) {
        currentBytes = bytes;
    }

    /** Holds (or is about to hold) memory: anything but halted. */
    boolean active() {
        return state != QubeState.HALTED;
    }

    /** Runs {@code op} after every operation submitted before it; the future carries its outcome. */
    <T> CompletableFuture<T> submit(String operation, Callable<T> op) {
        CompletableFuture<T> result = new CompletableFuture<>();
        boolean accepted = queue.offer(new SerialQueue.Task() {
            @Override
            public void run() {
                try {
                    result.complete(op.call());
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            }

            @Override
            public void reject(RejectedExecutionException cause) {
                result.completeExceptionally(new HypervisorException.OperationFailed("cannot " + operation
                        + " qube '" + name() + "': the libvirt backend is closed or saturated ("
                        + cause.getMessage() + ")", cause));
            }
        });
        if (!accepted) {
            result.completeExceptionally(new HypervisorException.OperationFailed("cannot " + operation
                    + " qube '" + name() + "': " + MAX_WAITING_OPERATIONS
                    + " operations already wait for it (state " + state + ")"));
        }
        return result;
    }

    void cancelTimers() {
        if (pollTimer != null) {
            pollTimer.cancel(false);
            pollTimer = null;
        }
        if (killTimer != null) {
            killTimer.cancel(false);
            killTimer = null;
        }
    }
}
