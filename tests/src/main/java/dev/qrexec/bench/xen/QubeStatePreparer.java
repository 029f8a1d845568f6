package dev.qrexec.bench.xen;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Brings a benchmark's qube to the state the next measured operation starts from, and waits. */
final class QubeStatePreparer {

    private QubeStatePreparer() {
    }

    static void bringTo(Hypervisor hypervisor, String qube, QubeState wanted, Duration timeout) {
        QubeState now = hypervisor.state(qube);
        if (now == wanted) {
            return;
        }
        switch (wanted) {
            case HALTED -> await(hypervisor.kill(qube), timeout);
            case RUNNING -> await(now == QubeState.PAUSED ? hypervisor.unpause(qube) : hypervisor.start(qube), timeout);
            case PAUSED -> {
                bringTo(hypervisor, qube, QubeState.RUNNING, timeout);
                await(hypervisor.pause(qube), timeout);
            }
            default -> throw new IllegalArgumentException("cannot prepare state " + wanted);
        }
    }

    static void await(CompletableFuture<Void> future, Duration timeout) {
        try {
            future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("benchmark operation failed: " + e, e);
        }
    }
}
