package dev.qrexec.dispvm.preload;

import dev.qrexec.xen.Hypervisor;
import java.util.concurrent.CompletableFuture;

/**
 * A preload boots in the background, usually while a call is being served on the same CPUs (the
 * refill after a use). It gets a low CPU weight until it is used, so that boot competes with the
 * call as little as possible; the use gives it the default weight back. Best effort: a backend
 * that cannot set a weight only costs latency, so failures are logged, never a failed preload.
 */
final class CpuWeights {

    private static final System.Logger LOG = System.getLogger(CpuWeights.class.getName());

    /** One eighth of the default share: a preload gets 1/9 of a CPU another qube also wants. */
    static final int PRELOAD = Hypervisor.DEFAULT_CPU_WEIGHT / 8;

    private CpuWeights() {
    }

    /** Before a preload's start; completes (never fails) once the backend took the weight or refused it. */
    static CompletableFuture<Void> lower(Hypervisor hypervisor, String qube) {
        return set(hypervisor, qube, PRELOAD);
    }

    /** When the preload is used; not waited for (the backend orders it before a later unpause). */
    static void restore(Hypervisor hypervisor, String qube) {
        set(hypervisor, qube, Hypervisor.DEFAULT_CPU_WEIGHT);
    }

    private static CompletableFuture<Void> set(Hypervisor hypervisor, String qube, int weight) {
        CompletableFuture<Void> set;
        try {
            set = hypervisor.setCpuWeight(qube, weight);
        } catch (RuntimeException e) {
            set = CompletableFuture.failedFuture(e);
        }
        return set.handle((v, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "cannot set the CPU weight of {0} to {1}: {2}", qube, weight,
                        e.toString());
            }
            return null;
        });
    }
}
