package dev.qrexec.xen.sandbox;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs the operations on one qube one after another, on a shared executor, without holding a
 * thread while an operation waits (an operation is a future: a shutdown waiting for its timeout
 * occupies no thread). A failed operation does not stop the ones queued behind it.
 */
final class SerialLane {

    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

    synchronized <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> operation, Executor executor) {
        CompletableFuture<T> result = tail.handle((ignored, failure) -> null)
                .thenComposeAsync(ignored -> operation.get(), executor);
        tail = result;
        return result;
    }
}
