package dev.qrexec.dispvm.preload;

import dev.qrexec.xen.HostMemory;

/**
 * The admission gate of spec 4.1: how many more preloads fit in host memory without going under the
 * threshold, counting each at its dvm template's initial memory.
 */
public final class MemoryGate {

    private MemoryGate() {
    }

    /** {@code min(want, floor(max(0, free − threshold) / perQube))}. */
    public static int fit(HostMemory host, long thresholdBytes, long perQubeBytes, int want) {
        if (want <= 0) {
            return 0;
        }
        if (perQubeBytes <= 0) {
            throw new IllegalArgumentException("memory per qube must be positive, was " + perQubeBytes);
        }
        long available = Math.max(0, host.freeBytes() - thresholdBytes);
        long fit = available / perQubeBytes;
        return (int) Math.min(want, fit);
    }
}
