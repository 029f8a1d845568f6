package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** What the SPI promises about failed futures: they fail with a {@link HypervisorException}, unwrapped. */
final class LaneFutures {

    private LaneFutures() {
    }

    /** Completes with the HypervisorException itself rather than a CompletionException around it. */
    static <T> CompletableFuture<T> unwrap(CompletableFuture<T> future) {
        CompletableFuture<T> result = new CompletableFuture<>();
        future.whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else {
                Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                result.completeExceptionally(cause instanceof HypervisorException ? cause
                        : new HypervisorException.OperationFailed(cause.toString(), cause));
            }
        });
        return result;
    }
}
