package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.util.concurrent.CompletableFuture;

/**
 * One defined qube. {@link #state}, {@link #targetBytes} and {@link #running} are read from any
 * thread and written only by operations on the qube's {@link #lane}, one at a time;
 * {@link #killRequested} is the one field a caller's thread writes (see {@code kill}).
 */
final class SandboxQube {

    /** The live sandbox of a running or paused qube. */
    record Running(long launcherPid, ProcessHandle init, CompletableFuture<Integer> exit) {
    }

    final QubeSpec spec;
    final int hostUid;
    final SerialLane lane = new SerialLane();
    volatile QubeState state = QubeState.HALTED;
    volatile long targetBytes;
    /** Written on the lane; volatile so an interrupting kill can read whose launcher to spare. */
    volatile Running running;
    /**
     * Set by a kill that arrives while a start or a shutdown is in flight: the kill signals the
     * sandbox at once, and the in-flight operation, seeing this, ends as a kill. Cleared at HALTED.
     */
    volatile boolean killRequested;

    SandboxQube(QubeSpec spec, int hostUid) {
        this.spec = spec;
        this.hostUid = hostUid;
        this.targetBytes = spec.memoryMiB() << 20;
    }

    String name() {
        return spec.name();
    }
}
