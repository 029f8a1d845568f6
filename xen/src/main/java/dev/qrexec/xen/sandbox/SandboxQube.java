package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import java.util.concurrent.CompletableFuture;

/**
 * One defined qube. {@link #state} and {@link #targetBytes} are read from any thread; they, and
 * {@link #running}, are written only by operations on the qube's {@link #lane}, one at a time.
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
    /** Lane-owned. */
    Running running;

    SandboxQube(QubeSpec spec, int hostUid) {
        this.spec = spec;
        this.hostUid = hostUid;
        this.targetBytes = spec.memoryMiB() << 20;
    }

    String name() {
        return spec.name();
    }
}
