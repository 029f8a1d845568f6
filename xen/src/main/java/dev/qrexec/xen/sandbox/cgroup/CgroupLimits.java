package dev.qrexec.xen.sandbox.cgroup;

/**
 * What a qube's cgroups hold it to.
 *
 * @param memoryMaxBytes    hard ceiling (OOM killer above it)
 * @param memoryTargetBytes reclaim goal (v1 soft limit, v2 memory.high)
 * @param pidsMax           processes and threads at most; 0: no limit
 * @param cpus              CPU bandwidth in whole CPUs (quota = cpus x period); 0: no limit
 */
public record CgroupLimits(long memoryMaxBytes, long memoryTargetBytes, long pidsMax, int cpus) {

    /** CFS period used for the CPU quota, in microseconds (the kernel's default). */
    public static final long CPU_PERIOD_US = 100_000;

    public CgroupLimits {
        if (memoryMaxBytes <= 0 || memoryTargetBytes <= 0 || memoryTargetBytes > memoryMaxBytes) {
            throw new IllegalArgumentException("memory target " + memoryTargetBytes + " must be in (0, ceiling "
                    + memoryMaxBytes + "]");
        }
        if (pidsMax < 0 || cpus < 0) {
            throw new IllegalArgumentException("pidsMax and cpus must not be negative: " + pidsMax + ", " + cpus);
        }
    }

    String pidsMaxValue() {
        return pidsMax > 0 ? Long.toString(pidsMax) : "max";
    }

    long cpuQuotaMicros() {
        return cpus > 0 ? cpus * CPU_PERIOD_US : -1;
    }
}
