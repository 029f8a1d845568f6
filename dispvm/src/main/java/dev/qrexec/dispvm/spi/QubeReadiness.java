package dev.qrexec.dispvm.spi;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Tells when a started qube is operational: in Qubes, {@code qubes.WaitForRunningSystem} (and
 * {@code qubes.WaitForSession} for GUI qubes) answered through the agent. The broker owns the agent
 * and implements this. The manager cancels the future when the wait is no longer needed (the preload
 * was claimed or discarded); implementations should then stop waiting.
 */
@FunctionalInterface
public interface QubeReadiness {

    /** Completes when {@code qube} is operational; fails with the reason (timeout, failed units, ...). */
    CompletableFuture<Void> awaitOperational(String qube, Duration timeout);

    /** For tests and backends without an agent: a started qube is operational at once. */
    static QubeReadiness immediate() {
        return (qube, timeout) -> CompletableFuture.completedFuture(null);
    }
}
