package dev.qrexec.dispvm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sim.SimHypervisor;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A preload boots with a low CPU weight, so a refill does not slow the call being served on the same
 * CPUs, and is back at the default weight once it is used: handed to a caller, or unpaused from
 * outside (any unpause is a use).
 */
class PreloadCpuWeightTest {

    @TempDir
    Path dir;
    Fixture f;

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void aPreloadRunsAtALowWeightUntilItIsUsed() {
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(), b -> b).withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String preload = f.queue("dvm").get(0);
        assertTrue(f.sim.cpuWeight(preload) < Hypervisor.DEFAULT_CPU_WEIGHT, "a preload boots at a low weight");

        Disposable d = f.manager.obtain("dvm", "work").join();
        assertEquals(preload, d.name());
        assertTrue(d.preloaded());
        await().until(() -> f.sim.cpuWeight(preload) == Hypervisor.DEFAULT_CPU_WEIGHT);
        // The refill boots at the low weight again.
        f.awaitReady("dvm", 1);
        assertTrue(f.sim.cpuWeight(f.queue("dvm").get(0)) < Hypervisor.DEFAULT_CPU_WEIGHT);
    }

    @Test
    void aPreloadUnpausedFromOutsideGetsTheDefaultWeightBack() {
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(), b -> b).withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String preload = f.queue("dvm").get(0);
        assertEquals(QubeState.PAUSED, f.sim.state(preload));
        f.sim.unpause(preload).join();
        await().until(() -> f.sim.cpuWeight(preload) == Hypervisor.DEFAULT_CPU_WEIGHT);
    }
}
