package dev.qrexec.dispvm.spi;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs Qubes' readiness services in a started qube through its agent and tells when they all
 * answered: {@code qubes.WaitForRunningSystem} (booted), {@code qubes.WaitForSession} (user session up,
 * for GUI qubes) and {@code qubes.WaitForNetworkUplink} (network configured, after a deferred netvm
 * change). The broker owns the agent and implements this. The manager cancels the future when the
 * wait is no longer needed (the preload was claimed or discarded); implementations should then stop.
 */
@FunctionalInterface
public interface QubeReadiness {

    String WAIT_FOR_RUNNING_SYSTEM = "qubes.WaitForRunningSystem";
    String WAIT_FOR_SESSION = "qubes.WaitForSession";
    String WAIT_FOR_NETWORK_UPLINK = "qubes.WaitForNetworkUplink";

    /**
     * Calls each of {@code services} in {@code qube} (concurrently, each with {@code timeout}) and
     * completes when all exited 0; fails with the first failure (which service, timeout or exit code).
     */
    CompletableFuture<Void> awaitServices(String qube, List<String> services, Duration timeout);

    /** {@code qubes.WaitForRunningSystem} only: what a cold disposable waits for. */
    default CompletableFuture<Void> awaitOperational(String qube, Duration timeout) {
        return awaitServices(qube, List.of(WAIT_FOR_RUNNING_SYSTEM), timeout);
    }

    /** For tests and backends without an agent: every service answers at once. */
    static QubeReadiness immediate() {
        return (qube, services, timeout) -> CompletableFuture.completedFuture(null);
    }
}
