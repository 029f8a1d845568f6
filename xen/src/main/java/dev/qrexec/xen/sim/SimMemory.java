package dev.qrexec.xen.sim;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * The sim's host memory and the balloon: what each qube holds, and its movement toward its target.
 * Owned by the sim thread; {@link #host()} may be read from any thread.
 *
 * <p>A running qube moves by {@code rate × step} every {@code step}, down freely, up only into free
 * host memory. A paused qube does not move (a paused Xen domain cannot give memory back), a halted
 * one holds nothing. The ticker runs only while some qube moved in the last step.
 */
final class SimMemory {

    private final long hostBytes;
    private final long defaultRate;
    private final Duration step;
    private final SimScheduler scheduler;
    private final SimFaults faults;
    private final Supplier<Collection<SimQube>> qubes;
    private volatile long usedBytes; // single writer: the sim thread
    private SimScheduler.Cancellable ticker;
    private boolean stopped;

    SimMemory(long hostBytes, long defaultRate, Duration step, SimScheduler scheduler, SimFaults faults,
              Supplier<Collection<SimQube>> qubes) {
        this.hostBytes = hostBytes;
        this.defaultRate = defaultRate;
        this.step = step;
        this.scheduler = scheduler;
        this.faults = faults;
        this.qubes = qubes;
    }

    HostMemory host() {
        return new HostMemory(hostBytes, hostBytes - usedBytes);
    }

    /** Gives a starting qube its initial memory, or fails with InsufficientMemory. */
    void reserveInitial(SimQube qube) {
        long need = qube.initialBytes();
        long free = hostBytes - usedBytes;
        if (need > free) {
            throw new HypervisorException.InsufficientMemory(need / SimQube.MIB, free / SimQube.MIB);
        }
        qube.currentBytes = need;
        qube.targetBytes = need;
        usedBytes += need;
        qube.publishMemory();
    }

    /** A halted qube gives everything back; a qube waiting to grow may now fit. */
    void release(SimQube qube) {
        usedBytes -= qube.currentBytes;
        qube.currentBytes = 0;
        qube.targetBytes = qube.initialBytes();
        qube.publishMemory();
        wake();
    }

    void target(SimQube qube, long targetBytes) {
        qube.targetBytes = targetBytes;
        qube.publishMemory();
        wake();
    }

    /** Something may move now (a new target, an unpause, freed memory). */
    void wake() {
        if (ticker == null && !stopped) {
            ticker = scheduler.schedule(step, this::tick);
        }
    }

    void stop() {
        stopped = true;
        if (ticker != null) {
            ticker.cancel();
            ticker = null;
        }
    }

    private void tick() {
        ticker = null;
        boolean moved = false;
        for (SimQube qube : qubes.get()) {
            if (qube.state() != QubeState.RUNNING || qube.currentBytes == qube.targetBytes
                    || faults.ignoresMemoryTargets(qube.name())) {
                continue;
            }
            long rate = faults.balloonRateOr(qube.name(), defaultRate);
            long stepBytes = Math.max(1, (long) (rate * (step.toNanos() / 1e9)));
            long delta = qube.currentBytes > qube.targetBytes
                    ? -Math.min(stepBytes, qube.currentBytes - qube.targetBytes)
                    : Math.min(stepBytes, Math.min(qube.targetBytes - qube.currentBytes, hostBytes - usedBytes));
            if (delta != 0) {
                qube.currentBytes += delta;
                usedBytes += delta;
                qube.publishMemory();
                moved = true;
            }
        }
        if (moved) {
            wake();
        }
    }
}
