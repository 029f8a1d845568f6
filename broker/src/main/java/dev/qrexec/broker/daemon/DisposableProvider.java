package dev.qrexec.broker.daemon;

import java.util.concurrent.CompletableFuture;

/**
 * Hands out disposables for {@code @dispvm:T} targets (spec dispvm-preload.md 3): a preloaded one if
 * ready, a cold one otherwise. The broker connects to the disposable's agent, runs the call, and
 * calls {@link Disposable#release()} once both ends have terminated.
 */
public interface DisposableProvider {

    CompletableFuture<Disposable> obtain(String template, String caller);

    /** A disposable given to one call. */
    interface Disposable {
        /** Where its agent listens. */
        AgentAddress agent();

        /** The call is over: destroy it. Called exactly once. */
        void release();
    }

    /** A provider without disposables: {@code @dispvm} calls are refused. */
    DisposableProvider NONE = (template, caller) ->
            CompletableFuture.failedFuture(new IllegalStateException("no disposable provider configured"));
}
