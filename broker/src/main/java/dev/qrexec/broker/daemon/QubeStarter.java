package dev.qrexec.broker.daemon;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Starts halted qubes for calls whose policy allows {@code autostart} (spec dispatch item 3).
 * The future completes with where the started qube's agent listens.
 */
public interface QubeStarter {

    /** The address of a known qube that is not running, or empty if the name is unknown. */
    Optional<AgentAddress> lookup(String name);

    CompletableFuture<AgentAddress> start(String name);

    /** A starter that knows no qube: calls to qubes that are not running are refused. */
    QubeStarter NONE = new QubeStarter() {
        @Override
        public Optional<AgentAddress> lookup(String name) {
            return Optional.empty();
        }

        @Override
        public CompletableFuture<AgentAddress> start(String name) {
            return CompletableFuture.failedFuture(new IllegalStateException("no qube starter configured"));
        }
    };
}
