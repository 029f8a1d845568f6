package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * What the broker calls to run a service in a disposable: obtain one for a caller, release it when
 * the call ends. Each disposable goes to exactly one caller.
 *
 * <p>Threads: every method returns at once; futures complete on the manager's threads (never block
 * in a callback chained on them without an executor of your own).
 */
public interface Disposables {

    /**
     * A running disposable of {@code dvmTemplate} for {@code caller}: a ready preload when there is
     * one, else a cold start. Fails with {@link dev.qrexec.dispvm.registry.RegistryException} when the
     * template is not a disposable template (nothing is created), or with the hypervisor's error when a
     * cold start fails (nothing is left behind).
     */
    CompletableFuture<Disposable> obtain(String dvmTemplate, String caller);

    /** Like {@link #obtain} with the caller's {@code default_dispvm} ({@code @dispvm}, or a call to dom0). */
    CompletableFuture<Disposable> obtainDefault(String caller);

    /**
     * Ends a disposable: kills it, discards its storage and, for an unnamed one, removes it; refills
     * happen in the background. Completes when the qube is gone (or halted, for a named one).
     */
    CompletableFuture<Void> release(String disposable);

    /** Queue state of one disposable template (for {@code qvm status}). */
    QueueStatus queueStatus(String dvmTemplate);

    /** Queue state of every disposable template. */
    List<QueueStatus> queueStatus();

    /**
     * Receives every event (status, log). Delivery is asynchronous through a bounded queue per
     * listener; a listener too slow to keep up loses the oldest pending events, never blocks the manager.
     * Close the result to unsubscribe.
     */
    AutoCloseable subscribe(Consumer<DispvmEvent> listener);
}
