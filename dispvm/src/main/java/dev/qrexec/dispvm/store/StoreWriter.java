package dev.qrexec.dispvm.store;

import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Persists registry states in order on its own thread, with group commit: when several changes are
 * committed while a write is under way, the next write stores only the newest state and acknowledges
 * all of them. A change is acknowledged (its future completes) only once a state at least as new is
 * durable on disk.
 *
 * <p>Threads: the {@code dispvm-store-writer} thread owns the file; callers only hand states over
 * under this object's monitor (no I/O under it). The waiter list is bounded by the number of
 * committed-but-unwritten changes, which group commit folds into one write each round.
 */
public final class StoreWriter implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(StoreWriter.class.getName());

    private record Waiter(long generation, CompletableFuture<Void> done) {
    }

    /** Where states go; the store in production, a recording sink in tests. */
    @FunctionalInterface
    interface StateSink {
        void write(RegistryState state);
    }

    private final StateSink store;
    private final Thread thread;
    private final List<Waiter> waiters = new ArrayList<>();
    private RegistryState pending;
    private long written = -1;
    /** Newest generation taken by the writer thread or pending; never queue anything older. */
    private long queued = -1;
    private boolean closed;
    private long writes;

    public StoreWriter(RegistryStore store) {
        this((StateSink) store::write);
    }

    StoreWriter(StateSink store) {
        this.store = store;
        this.thread = new Thread(this::run, "dispvm-store-writer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a state; the future completes when it (or a newer one) is durable. */
    public synchronized CompletableFuture<Void> persist(RegistryState state) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new RegistryException.StoreFailure("store writer is closed", null));
            return done;
        }
        if (state.generation() <= written) {
            done.complete(null);
            return done;
        }
        // Commits hand their states over after the registry's lock is released, so an older state
        // may arrive after a newer one was queued or is being written. The newer one contains the
        // older change; queueing the older state again would overwrite it on disk.
        if (state.generation() > queued) {
            pending = state;
            queued = state.generation();
        }
        waiters.add(new Waiter(state.generation(), done));
        notifyAll();
        return done;
    }

    /** Number of file writes so far (group commit makes this smaller than the number of changes). */
    public synchronized long writes() {
        return writes;
    }

    private void run() {
        while (true) {
            RegistryState next;
            synchronized (this) {
                while (pending == null && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (pending == null) {
                    return;
                }
                next = pending;
                pending = null;
            }
            RuntimeException failure = null;
            try {
                store.write(next);
            } catch (RuntimeException e) {
                failure = e;
                LOG.log(System.Logger.Level.ERROR, "registry generation " + next.generation()
                        + " not persisted", e);
            }
            List<CompletableFuture<Void>> toComplete = new ArrayList<>();
            synchronized (this) {
                writes++;
                if (failure == null) {
                    written = Math.max(written, next.generation());
                } else if (pending == null) {
                    // nothing newer is queued: a late older state may be written again
                    queued = written;
                }
                for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                    Waiter w = it.next();
                    if (w.generation <= next.generation()) {
                        toComplete.add(w.done);
                        it.remove();
                    }
                }
            }
            for (CompletableFuture<Void> f : toComplete) {
                if (failure == null) {
                    f.complete(null);
                } else {
                    f.completeExceptionally(failure);
                }
            }
        }
    }

    /** Writes what is pending, then stops the thread. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Waiter> left;
        synchronized (this) {
            left = new ArrayList<>(waiters);
            waiters.clear();
        }
        left.forEach(w -> w.done.completeExceptionally(
                new RegistryException.StoreFailure("store writer closed before generation " + w.generation
                        + " was written", null)));
    }
}
