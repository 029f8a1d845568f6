package dev.qrexec.dispvm.spi;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * Asks the agent inside a qube to give memory back (drop caches, report usage), as qmemman does with
 * a guest's meminfo. The broker owns the agent and implements this.
 */
@FunctionalInterface
public interface MemoryReleaser {

    /**
     * Asks {@code qube} to release what it can; completes with the bytes it still uses, or empty when
     * it has not reported (then the manager does not balloon it, as Qubes does).
     */
    CompletableFuture<OptionalLong> release(String qube);

    /**
     * What {@code qube} uses now, without asking it to release anything (qmemman re-reads the guest's
     * meminfo while it balloons). By default the same as {@link #release}.
     */
    default CompletableFuture<OptionalLong> usage(String qube) {
        return release(qube);
    }

    /** Reports nothing: ballooning is skipped. */
    static MemoryReleaser none() {
        return qube -> CompletableFuture.completedFuture(OptionalLong.empty());
    }

    /** Reports a fixed usage (tests). */
    static MemoryReleaser fixed(long usedBytes) {
        return qube -> CompletableFuture.completedFuture(OptionalLong.of(usedBytes));
    }
}
