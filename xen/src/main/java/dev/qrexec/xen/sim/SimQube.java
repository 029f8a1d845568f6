package dev.qrexec.xen.sim;

import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated qube. Every field is owned by the sim thread, except the two volatile snapshots
 * ({@link #state}, {@link #memory}) that readers on other threads use.
 *
 * <p>Operations on one qube are serialised: one runs ({@link #current}), the others wait in
 * {@link #waiting} and are checked against the state the running one leaves behind. Kill and crash
 * do not wait: they interrupt the running operation.
 */
final class SimQube {

    static final long MIB = 1L << 20;

    /** An operation in flight and its completion. */
    static final class Operation {
        final String name;
        final CompletableFuture<Void> future;
        SimScheduler.Cancellable timer;

        Operation(String name, CompletableFuture<Void> future) {
            this.name = name;
            this.future = future;
        }

        void cancelTimer() {
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
        }
    }

    /** Why a qube is STOPPING: a kill must not be turned back into a slower shutdown. */
    enum StopKind { NONE, SHUTDOWN, KILL }

    final QubeSpec spec;
    private volatile QubeState state = QubeState.HALTED;
    private volatile MemoryUsage memory;

    long currentBytes;
    long targetBytes;
    Operation current;
    final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    /** Futures that complete when the qube is next HALTED (shutdown, kill, crash clean-up). */
    final List<CompletableFuture<Void>> haltWaiters = new ArrayList<>();
    StopKind stopKind = StopKind.NONE;
    /** STARTED was emitted and no HALTED/DIED since: only such a qube reports stopping by event. */
    boolean announcedUp;
    SimScheduler.Cancellable deathTimer;

    SimQube(QubeSpec spec) {
        this.spec = spec;
        this.targetBytes = initialBytes();
        publishMemory();
    }

    String name() {
        return spec.name();
    }

    QubeState state() {
        return state;
    }

    void state(QubeState next) {
        state = next;
    }

    MemoryUsage memory() {
        return memory;
    }

    long initialBytes() {
        return spec.memoryMiB() * MIB;
    }

    long maxBytes() {
        return spec.maxMemoryMiB() * MIB;
    }

    boolean busy() {
        return current != null;
    }

    void publishMemory() {
        memory = new MemoryUsage(currentBytes, targetBytes, maxBytes());
    }

    void cancelDeath() {
        if (deathTimer != null) {
            deathTimer.cancel();
            deathTimer = null;
        }
    }
}
