package dev.qrexec.broker.daemon;

import java.util.concurrent.CompletableFuture;

/**
 * Decides a call. Implementations may block (policy files, system info); the daemon calls them on
 * its bounded policy executor, never on an event loop. Any exception counts as a deny.
 */
@FunctionalInterface
public interface CallPolicy {

    PolicyVerdict evaluate(CallRequest request) throws Exception;

    /**
     * Decides a call whose answer may come later (an {@code ask} waits for the user): the daemon
     * calls this on its policy executor and routes the call when the future completes, so no
     * thread waits for the user. The default evaluates synchronously.
     */
    default CompletableFuture<PolicyVerdict> evaluateAsync(CallRequest request) {
        try {
            return CompletableFuture.completedFuture(evaluate(request));
        } catch (Exception | StackOverflowError e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
