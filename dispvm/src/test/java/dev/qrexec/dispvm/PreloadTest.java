package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The preload queue on the sim backend: request, use, refill (spec 5, items 14-17, 24-29). */
class PreloadTest {

    @TempDir
    Path dir;
    Fixture f;

    @BeforeEach
    void setUp() {
        f = new Fixture(dir).withTemplates();
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void aReadyPreloadIsHiddenPausedAndHandedOutWithoutANewDispid() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String name = f.queue("dvm").get(0);
        Qube q = f.manager.snapshot().get(name);
        assertTrue(q.featureTrue(Features.INTERNAL), "hidden while preloaded");
        assertEquals("1", q.features().get(Features.PRELOAD_COMPLETED));
        assertEquals("", q.features().get(Features.PRELOAD_IN_PROGRESS));
        assertEquals("Paused", f.admin().powerState(name));
        assertTrue(f.manager.systemInfo().tree().path("domains").path(name).path("internal").asBoolean());
        int dispidsBefore = dispids();

        Disposable d = f.manager.obtain("dvm", "work").join();

        assertEquals(name, d.name());
        assertTrue(d.preloaded());
        assertEquals(dispidsBefore, dispids() - 0, "no dispid allocated for the request itself");
        Qube used = f.manager.snapshot().get(name);
        assertFalse(used.features().containsKey(Features.INTERNAL), "visible once used");
        assertFalse(used.features().containsKey(Features.PRELOAD_IN_PROGRESS));
        assertEquals("Running", f.admin().powerState(name));
        assertEquals(1, f.count(DispvmEvent.Kind.PRELOAD_CLAIMED, name));
        // The use refills the queue with a different qube.
        f.awaitReady("dvm", 1);
        assertFalse(f.queue("dvm").contains(name));
    }

    @Test
    void aRequestOnAFullQueueSchedulesNoRefillOnlyTheUseDoes() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        long before = f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm");
        Disposable d = f.manager.obtain("dvm", "work").join();
        await().until(() -> f.events.stream().anyMatch(e -> e.kind() == DispvmEvent.Kind.REFILL_SCHEDULED
                && e.detail().startsWith("preload used")));
        f.awaitReady("dvm", 1);
        assertEquals(before + 1, f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm"));
        assertFalse(f.queue("dvm").contains(d.name()));
        // The delivery is visible in the events, in order: claimed, then delivered as a preload.
        var kinds = f.events.stream().filter(e -> e.qube().equals(d.name())).map(DispvmEvent::kind).toList();
        assertTrue(kinds.indexOf(DispvmEvent.Kind.PRELOAD_CLAIMED) < kinds.indexOf(DispvmEvent.Kind.DISPOSABLE_DELIVERED),
                kinds.toString());
    }

    @Test
    void requestWithAnEmptyQueueSchedulesARefillThenColdStarts() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        f.manager.engine().trim("dvm", 0, "test empties the queue");
        await().until(() -> f.queue("dvm").isEmpty());
        long refills = f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm");
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(d.preloaded());
        assertTrue(f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm") > refills);
        f.awaitReady("dvm", 1);
    }

    @Test
    void maxZeroPreloadsNothing() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "0");
        f.admin().preload("dvm").join();
        f.manager.obtain("dvm", "work").join();
        assertTrue(f.queue("dvm").isEmpty());
        f.syncEvents();
        assertEquals(0, f.events.stream().filter(e -> e.kind() == DispvmEvent.Kind.PRELOAD_RESERVED).count());
    }

    @Test
    void settingTheLocalMaxFiresOneRefillAndSettingItAgainNone() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        assertEquals(1, f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm"));
        f.awaitReady("dvm", 2);
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        assertEquals(1, f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "dvm"));
        // On a qube that is not a disposable template, nothing.
        f.admin().setFeature("work", Features.QREXEC, "1");
        f.admin().setFeature("work", Features.PRELOAD_DISPVM_MAX, "1");
        assertEquals(0, f.count(DispvmEvent.Kind.REFILL_SCHEDULED, "work"));
    }

    @Test
    void deletingTheLocalMaxTrimsToZero() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        List<String> old = f.queue("dvm");
        f.admin().removeFeature("dvm", Features.PRELOAD_DISPVM_MAX);
        assertTrue(f.queue("dvm").isEmpty());
        f.awaitNoLeaks(Set.of());
        old.forEach(n -> assertTrue(f.count(DispvmEvent.Kind.PRELOAD_DISCARDED, n) == 1));
    }

    @Test
    void loweringTheMaxTrimsTheNewestEvenWhileTheyAreBeingCreated() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String oldest = f.queue("dvm").get(0);
        f.sim.faults().bootLatency("unused", Duration.ZERO);
        // Preloads created from now on hang in their start: they are in flight when the max drops.
        f.manager.subscribe(e -> {
            if (e.kind() == DispvmEvent.Kind.PRELOAD_RESERVED) {
                f.sim.faults().hangNextStart(e.qube());
            }
        });
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "3");
        await().until(() -> f.queue("dvm").size() == 3);
        List<String> inFlight = f.queue("dvm").subList(1, 3);
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().until(() -> f.queue("dvm").equals(List.of(oldest)));
        f.awaitNoLeaks(Set.of(oldest));
        inFlight.forEach(n -> assertTrue(f.manager.snapshot().find(n).isEmpty(), n + " left behind"));
    }

    @Test
    void threeConcurrentRequestsGetThreeDistinctPreloadsAndTheRefillIsDisjoint() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "3");
        f.awaitReady("dvm", 3);
        Set<String> old = new HashSet<>(f.queue("dvm"));
        List<CompletableFuture<Disposable>> fs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            fs.add(CompletableFuture.supplyAsync(() -> f.manager.obtain("dvm", "work").join()));
        }
        Set<String> got = new HashSet<>();
        fs.forEach(x -> got.add(x.join().name()));
        assertEquals(old, got);
        f.awaitReady("dvm", 3);
        assertTrue(f.queue("dvm").stream().noneMatch(old::contains));
    }

    @Test
    void aRequestRacingAMaxDropStillGetsADisposable() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        CompletableFuture<Disposable> d = f.manager.obtain("dvm", "work");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "0");
        assertTrue(d.join().name().startsWith("disp"));
        assertEquals("Running", f.admin().powerState(d.join().name()));
    }

    @Test
    void unpausingAReadyPreloadFromOutsideMakesItUsed() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String name = f.queue("dvm").get(0);
        f.admin().unpause(name).join();
        await().until(() -> f.count(DispvmEvent.Kind.PRELOAD_USED_UNREQUESTED, name) == 1);
        await().until(() -> !f.manager.snapshot().get(name).features().containsKey(Features.INTERNAL));
        assertEquals("", f.manager.snapshot().get(name).features().get(Features.PRELOAD_IN_PROGRESS));
        f.awaitReady("dvm", 1);
        assertFalse(f.queue("dvm").contains(name), "never back into the queue");
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(d.name().equals(name));
    }

    @Test
    void aNegativeDelayRefillsOnlyWhenTheQueueIsEmpty() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_DELAY, "-0.01");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        f.manager.obtain("dvm", "work").join();
        assertEquals(1, f.queue("dvm").size(), "no refill while one is left");
        f.manager.obtain("dvm", "work").join();
        f.awaitReady("dvm", 2);
    }

    @Test
    void createDisposableWithPreloadOnlyFillsVacancies() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        List<String> q = f.queue("dvm");
        f.admin().preload("dvm").join();
        f.admin().preload("dvm").join();
        f.awaitReady("dvm", 2);
        assertEquals(q, f.queue("dvm"));
    }

    @Test
    void theTemplatesInternalFeatureStaysOnUsedDisposables() {
        f.admin().setFeature("dvm", Features.INTERNAL, "1");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertTrue(f.manager.snapshot().get(d.name()).featureTrue(Features.INTERNAL));
    }

    @Test
    void settingMaxNeedsTheReadinessServices() {
        f.admin().create("bare", QubeClass.TEMPLATE_VM, Map.of());
        f.admin().create("dvm2", QubeClass.APP_VM, Map.of("template", "bare", "template_for_dispvms", "True"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.qrexec.dispvm.registry.RegistryException.InvalidValue.class,
                () -> f.admin().setFeature("dvm2", Features.PRELOAD_DISPVM_MAX, "1"));
        assertTrue(e.getMessage().contains("qrexec"), e.getMessage());
        f.admin().setFeature("bare", Features.QREXEC, "1");
        f.admin().setFeature("bare", Features.RPC_WAIT_RUNNING, "1");
        org.junit.jupiter.api.Assertions.assertThrows(
                dev.qrexec.dispvm.registry.RegistryException.InvalidValue.class,
                () -> f.admin().setFeature("dvm2", Features.PRELOAD_DISPVM_MAX, "1"));
        f.admin().setFeature("bare", Features.RPC_WAIT_SESSION, "1");
        f.admin().setFeature("dvm2", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm2", 1);
    }

    @Test
    void hostSuspendTrimsEveryQueueAndResumeRefills() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        f.manager.hostSuspending();
        assertTrue(f.queue("dvm").isEmpty());
        f.awaitNoLeaks(Set.of());
        f.manager.hostResumed();
        f.awaitReady("dvm", 2);
    }

    @Test
    void aPreloadIsBalloonedToItsPreferredMemoryBeforeThePause() throws Exception {
        f.close();
        f = new Fixture(dir.resolve("b"), dev.qrexec.xen.sim.SimHypervisor.builder()
                .balloonRate(8000L << 20).memoryStep(Duration.ofMillis(10)).build(),
                b -> b.memoryReleaser(dev.qrexec.dispvm.spi.MemoryReleaser.fixed(300L << 20))).withTemplates();
        f.admin().setProperty("dvm", "memory", "2000");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        var mem = f.sim.memory(f.queue("dvm").get(0));
        assertEquals(390L << 20, mem.targetBytes());
        assertTrue(mem.currentBytes() <= (long) ((390L << 20) * 1.1), "current " + (mem.currentBytes() >> 20) + " MiB");
    }

    private int dispids() {
        return (int) f.manager.snapshot().qubes().values().stream()
                .filter(q -> q.properties().containsKey("dispid")).count()
                + f.manager.snapshot().recentDispids().size();
    }
}
