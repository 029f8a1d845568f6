package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;

import java.util.Collection;

/**
 * Host memory as the sandbox backend accounts it: a fixed total (configured, or MemTotal), of which
 * every qube that is not halted holds its current target. A start is admitted only if the qube's
 * initial memory fits; check and reservation happen under one lock so two starts cannot both take
 * the last free megabytes.
 */
final class MemoryLedger {

    private final long totalBytes;
    private final Collection<SandboxQube> qubes;

    /** @param qubes a live view of the defined qubes */
    MemoryLedger(long totalBytes, Collection<SandboxQube> qubes) {
        this.totalBytes = totalBytes;
        this.qubes = qubes;
    }

    /** Reserves the qube's initial memory and marks it STARTING, or fails with InsufficientMemory. */
    synchronized void admit(SandboxQube qube) {
        long asked = qube.spec.memoryMiB() << 20;
        long free = freeBytes();
        if (asked > free) {
            throw new HypervisorException.InsufficientMemory(qube.spec.memoryMiB(), free >> 20);
        }
        qube.targetBytes = asked;
        qube.state = QubeState.STARTING;
    }

    HostMemory hostMemory() {
        return new HostMemory(totalBytes, freeBytes());
    }

    long freeBytes() {
        long committed = 0;
        for (SandboxQube qube : qubes) {
            if (qube.state != QubeState.HALTED) {
                committed += qube.targetBytes;
            }
        }
        return Math.max(0, totalBytes - committed);
    }
}
