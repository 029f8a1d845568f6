package dev.qrexec.broker.demo;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Regression: the preload engine cancels a readiness wait once the preload is claimed; the wait
 * went on (and retried its call on a disposable already used and killed) because the cancel
 * stopped at the composed future.
 */
class DemoSystemReadinessTest {

    @Test
    void cancellingTheReadinessFutureCancelsTheWaitItself() {
        CompletableFuture<DemoSystem> system = CompletableFuture.completedFuture(null);
        CompletableFuture<Void> inner = new CompletableFuture<>();
        CompletableFuture<Void> outer = DemoSystem.cancellable(system, s -> inner);
        outer.cancel(false);
        assertTrue(inner.isCancelled(), "the wait must see the cancel");
    }

    @Test
    void theWaitsOutcomeIsTheResultsAndAFailedSystemFailsIt() {
        CompletableFuture<Void> inner = new CompletableFuture<>();
        CompletableFuture<Void> outer = DemoSystem.cancellable(CompletableFuture.completedFuture(null), s -> inner);
        assertFalse(outer.isDone());
        inner.complete(null);
        assertTrue(outer.isDone() && !outer.isCompletedExceptionally());

        CompletableFuture<Void> failed = DemoSystem.cancellable(
                CompletableFuture.failedFuture(new IllegalStateException("no system")), s -> inner);
        assertTrue(failed.isCompletedExceptionally());
    }
}
