package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The waiting operations on a qube's group: freeze until settled, and kill every process of the
 * group then remove it. They block the calling thread (a backend worker, never the caller of the
 * SPI) for at most the given timeout, polling cgroupfs with short parks.
 */
public final class CgroupActions {

    private static final System.Logger LOG = System.getLogger(CgroupActions.class.getName());
    private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    /** How long the spared parent gets to exit by itself once its children are dead. */
    private static final Duration PARENT_GRACE = Duration.ofMillis(500);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final CgroupDriver driver;

    public CgroupActions(CgroupDriver driver) {
        this.driver = driver;
    }

    public CgroupDriver driver() {
        return driver;
    }

    /** Freezes the group and waits until the kernel reports it frozen. */
    public void freeze(String qube, Duration timeout) throws IOException {
        driver.freeze(qube);
        if (!await(() -> driver.isFrozen(qube), timeout)) {
            throw new IOException("cgroup of '" + qube + "' did not freeze within " + timeout.toMillis() + " ms");
        }
    }

    /**
     * SIGKILLs every process of the group, waits until it is empty, then removes it. Without
     * {@code cgroup.kill} the group is frozen first so no task can fork between listing and
     * signalling, then thawed so the signals are delivered. No-op when the group does not exist.
     *
     * <p>{@code parentPid}, if positive, is the group's top process and a child of ours: it is spared
     * in a first round so it reaps its own children and is then reaped by us, instead of leaving
     * orphaned zombies for the host's init to collect whenever it gets round to it.
     */
    public void killAndRemove(String qube, Duration timeout, long parentPid) throws IOException {
        try {
            killAndRemoveOnce(qube, timeout, parentPid);
        } catch (IOException e) {
            if (driver.exists(qube)) {
                throw e;
            }
            // another killer (an interrupting kill and the stop it interrupted) removed it first
        }
    }

    private void killAndRemoveOnce(String qube, Duration timeout, long parentPid) throws IOException {
        if (!driver.exists(qube)) {
            return;
        }
        if (parentPid > 0 && driver.pids(qube).contains(parentPid)) {
            signalFrozenGroup(qube, parentPid);
            await(() -> !driver.pids(qube).contains(parentPid) || driver.pids(qube).equals(Set.of(parentPid)),
                    timeout);
            await(() -> !driver.pids(qube).contains(parentPid), PARENT_GRACE);
        }
        if (!driver.killAll(qube)) {
            signalFrozenGroup(qube, 0);
        }
        if (!await(() -> driver.pids(qube).isEmpty(), timeout)) {
            throw new IOException("processes of '" + qube + "' survived SIGKILL for " + timeout.toMillis()
                    + " ms: " + driver.pids(qube));
        }
        driver.remove(qube);
    }

    private void signalFrozenGroup(String qube, long spared) throws IOException {
        driver.freeze(qube);
        if (!await(() -> driver.isFrozen(qube), Duration.ofSeconds(1))) {
            // A task stuck in the kernel delays freezing; signal anyway, the loop below retries.
            LOG.log(System.Logger.Level.WARNING, "cgroup of {0} not frozen before kill, signalling anyway", qube);
        }
        for (int round = 0; round < 3; round++) {
            Set<Long> pids = driver.pids(qube);
            if (pids.isEmpty() || pids.equals(Set.of(spared))) {
                break;
            }
            for (long pid : pids) {
                if (pid != spared) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        }
        driver.thaw(qube);
    }

    /** Polls {@code condition} with growing parks until true or {@code timeout}; true if it became true. */
    public static boolean await(IoCondition condition, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long park = POLL_NANOS;
        while (true) {
            if (condition.holds()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(park);
            park = Math.min(park * 2, MAX_POLL_NANOS);
        }
    }

    /** A condition read from files. */
    @FunctionalInterface
    public interface IoCondition {
        boolean holds() throws IOException;
    }
}
