package dev.qrexec.broker.agent;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * State of the agent that services may wait on or act on: whether the system finished starting
 * ({@code qubes.WaitForRunningSystem}), whether a user session is up ({@code qubes.WaitForSession}),
 * and the caches it can drop when the backend asks it to shrink before a pause.
 * Thread-safe: latches and a copy-on-write list.
 */
public final class AgentState {

    private static final System.Logger LOG = System.getLogger(AgentState.class.getName());

    private final String qubeName;
    private final CountDownLatch systemRunning = new CountDownLatch(1);
    private final CountDownLatch sessionReady = new CountDownLatch(1);
    private final List<Runnable> cacheDroppers = new CopyOnWriteArrayList<>();

    public AgentState(String qubeName) {
        this.qubeName = qubeName;
    }

    public String qubeName() {
        return qubeName;
    }

    public void markSystemRunning() {
        systemRunning.countDown();
    }

    public void markSessionReady() {
        sessionReady.countDown();
    }

    public boolean isSystemRunning() {
        return systemRunning.getCount() == 0;
    }

    public boolean isSessionReady() {
        return sessionReady.getCount() == 0;
    }

    /** @return false on timeout */
    public boolean awaitSystemRunning(Duration timeout) throws InterruptedException {
        return systemRunning.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @return false on timeout */
    public boolean awaitSession(Duration timeout) throws InterruptedException {
        return sessionReady.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Registers something to drop when memory is to be released (e.g. a cache the agent keeps). */
    public void onReleaseMemory(Runnable dropper) {
        cacheDroppers.add(dropper);
    }

    /** Outcome of {@link #releaseMemory()}: heap before and after, in bytes. */
    public record Released(long heapUsedBefore, long heapCommittedBefore, long heapUsedAfter,
                           long heapCommittedAfter) {
    }

    /**
     * Drops the registered caches and runs a full GC. With SerialGC and a low
     * {@code MaxHeapFreeRatio} (see the agent's JVM flags) the JVM then gives the freed heap back to
     * the OS, which is what a balloon driver can reclaim before the qube is paused.
     */
    public Released releaseMemory() {
        MemoryUsage before = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        for (Runnable dropper : cacheDroppers) {
            try {
                dropper.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cache dropper failed: " + e);
            }
        }
        System.gc();
        MemoryUsage after = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        LOG.log(System.Logger.Level.INFO, "released memory: heap used " + before.getUsed() + " -> "
                + after.getUsed() + ", committed " + before.getCommitted() + " -> " + after.getCommitted());
        return new Released(before.getUsed(), before.getCommitted(), after.getUsed(), after.getCommitted());
    }
}
