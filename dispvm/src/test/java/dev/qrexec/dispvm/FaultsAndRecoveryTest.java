package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Failures, memory limits and restarts (spec 5, items 31-33, 40; spec 2.8's faults, done better). */
class FaultsAndRecoveryTest {

    @TempDir
    Path dir;
    Fixture f;

    @AfterEach
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void aCallerWaitingOnAPreloadWhoseStartFailsLearnsAtOnceAndGetsAColdOne() {
        // Faults set before the preload exists: set from an event listener, they raced the start
        // under load (the listener runs on the event thread, the start on the engine's).
        f = new Fixture(dir, SimHypervisor.builder().bootLatency(Duration.ofMillis(300)).build(), b -> b)
                .withTemplates();
        f.sim.faults().failStart(1);   // the preload's start, the first of any qube here
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().until(() -> f.queue("dvm").size() == 1);
        String doomed = f.queue("dvm").get(0);
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(d.preloaded());
        assertFalse(d.name().equals(doomed));
        // Qubes would wait 1.2 × qrexec_timeout = 72 s here.
        assertTrue(d.took().compareTo(Duration.ofSeconds(5)) < 0, "took " + d.took());
        await().until(() -> f.manager.snapshot().find(doomed).isEmpty() && !f.sim.list().contains(doomed));
        assertEquals(1, f.count(DispvmEvent.Kind.PRELOAD_FAILED, doomed));
    }

    @Test
    void failedPreloadStartsLeaveNothingBehind() {
        f = new Fixture(dir).withTemplates();
        f.sim.faults().failStart(1).failStart(2);
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        await().until(() -> f.events.stream().filter(e -> e.kind() == DispvmEvent.Kind.PRELOAD_FAILED).count() == 2);
        f.awaitNoLeaks(Set.of());
        assertTrue(f.queue("dvm").isEmpty());
        // The next event refills fully.
        f.admin().preload("dvm").join();
        f.awaitReady("dvm", 2);
    }

    @Test
    void aQubeThatNeverBecomesOperationalIsDiscardedAndACallerGetsTheReason() {
        f = new Fixture(dir, SimHypervisor.builder().build(), b -> b.readiness((q, services, t) ->
                java.util.concurrent.CompletableFuture.failedFuture(
                        new IllegalStateException("qubes.WaitForRunningSystem: system is degraded")))).withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().until(() -> f.events.stream().anyMatch(e -> e.kind() == DispvmEvent.Kind.PRELOAD_FAILED
                && e.detail().contains("degraded")));
        f.awaitNoLeaks(Set.of());
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CompletionException.class,
                () -> f.manager.obtain("dvm", "work").join());
        assertTrue(e.getCause().getMessage().contains("degraded"), e.getCause().getMessage());
        f.awaitNoLeaks(Set.of());
    }

    @Test
    void aPreloadThatDiesIsDiscarded() {
        f = new Fixture(dir).withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String name = f.queue("dvm").get(0);
        f.sim.crash(name, "out of memory");
        await().until(() -> f.manager.snapshot().find(name).isEmpty() && !f.queue("dvm").contains(name));
    }

    @Test
    void withRoomForOneTemplateOnlyOnePreloadIsCreated() {
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(1500).build(), b -> b).withTemplates();
        f.admin().setProperty("dvm", "memory", "1000");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 1);
        f.syncEvents();
        assertTrue(f.events.stream().anyMatch(e -> e.kind() == DispvmEvent.Kind.REFILL_LIMITED_BY_MEMORY));
        assertEquals(1, f.queue("dvm").size());
    }

    @Test
    void theThresholdIsNeverEatenIntoByPreloads() {
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(2000).build(), b -> b).withTemplates();
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_THRESHOLD, "1000");
        f.admin().setProperty("dvm", "memory", "1000");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 1);
        f.admin().preload("dvm").join();
        await().during(Duration.ofMillis(300)).until(() -> f.queue("dvm").size() == 1);
    }

    @Test
    void aRestartKeepsReadyPreloadsDiscardsHalfDoneOnesAndRefills() {
        f = new Fixture(dir).withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        Set<String> ready = new HashSet<>(f.queue("dvm"));
        f.manager.subscribe(e -> {
            if (e.kind() == DispvmEvent.Kind.PRELOAD_RESERVED) {
                f.sim.faults().hangNextStart(e.qube());
            }
        });
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "3");
        await().until(() -> f.queue("dvm").size() == 3);
        String halfDone = f.queue("dvm").get(2);
        Disposable used = f.manager.obtain("dvm", "work").join();
        ready.remove(used.name());
        await().until(() -> f.queue("dvm").size() == 3);
        List<String> beforeRestart = f.queue("dvm");
        Set<String> recent = f.manager.snapshot().recentDispids().keySet().stream()
                .map(String::valueOf).collect(java.util.stream.Collectors.toSet());

        f.restart();

        await().until(() -> f.manager.snapshot().find(halfDone).isEmpty() && !f.sim.list().contains(halfDone));
        f.awaitReady("dvm", 3);
        assertTrue(f.queue("dvm").containsAll(ready), "ready preloads survive: " + f.queue("dvm"));
        assertEquals("Running", f.admin().powerState(used.name()), "a used disposable is left alone");
        for (String n : beforeRestart) {
            if (!ready.contains(n)) {
                assertFalse(f.queue("dvm").contains(n), n + " was half done and must be gone");
            }
        }
        assertTrue(f.manager.snapshot().recentDispids().keySet().stream().map(String::valueOf)
                .collect(java.util.stream.Collectors.toSet()).containsAll(recent), "anti-reuse window survives");
        Set<String> expected = new HashSet<>(f.queue("dvm"));
        expected.add(used.name());
        f.awaitNoLeaks(expected);
    }
}
