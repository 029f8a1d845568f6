package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.preload.PreloadSettings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Global maximum, system default, template changes, outdated preloads (spec 5, items 13, 16-21, 34-37). */
class GlobalAndTriggersTest {

    @TempDir
    Path dir;
    Fixture f;

    @BeforeEach
    void setUp() {
        f = new Fixture(dir).withTemplates();
        f.admin().create("dvm2", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private long refills(String t) {
        return f.count(DispvmEvent.Kind.REFILL_SCHEDULED, t);
    }

    @Test
    void globalDominatesLocalForTheSystemDefaultOnly() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        f.admin().setSystemDefaultDispvm("dvm");
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "1");
        assertTrue(f.manager.queueStatus("dvm").global());
        f.awaitReady("dvm", 1);
        // Local changes are ignored while global applies.
        long before = refills("dvm");
        f.admin().removeFeature("dvm", Features.PRELOAD_DISPVM_MAX);
        assertEquals(before, refills("dvm"));
        assertEquals(1, f.queue("dvm").size());
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        // Removing global falls back to local 2.
        f.admin().removeFeature("dom0", Features.PRELOAD_DISPVM_MAX);
        f.awaitReady("dvm", 2);
        // Global moves with the system default: dvm2 gets global 1, dvm keeps its local 2.
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        f.admin().setSystemDefaultDispvm("dvm2");
        f.awaitReady("dvm2", 1);
        f.awaitReady("dvm", 2);
        // Unsetting the default removes globally driven preloads.
        f.admin().setSystemDefaultDispvm("");
        await().until(() -> f.queue("dvm2").isEmpty());
    }

    @Test
    void anEmptyGlobalValueDisablesPreloadingOfTheDefault() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        assertEquals(1, PreloadSettings.effectiveMax(f.manager.snapshot(), "dvm"));
        f.admin().setSystemDefaultDispvm("dvm");
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "");
        assertEquals(0, PreloadSettings.effectiveMax(f.manager.snapshot(), "dvm"));
        await().until(() -> f.queue("dvm").isEmpty());
        f.admin().setSystemDefaultDispvm("");
        assertEquals(1, PreloadSettings.effectiveMax(f.manager.snapshot(), "dvm"));
    }

    @Test
    void globalMaxWithoutSystemDefaultFiresNothing() {
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "2");
        f.syncEvents();
        assertEquals(0, f.events.stream().filter(e -> e.kind() == DispvmEvent.Kind.REFILL_SCHEDULED).count());
        f.admin().removeFeature("dom0", Features.PRELOAD_DISPVM_MAX);
        f.syncEvents();
        assertEquals(0, f.events.stream().filter(e -> e.kind() == DispvmEvent.Kind.REFILL_SCHEDULED).count());
    }

    @Test
    void systemDefaultChangeWithOnlyLocalFeaturesFiresNothing() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        long before = refills("dvm") + refills("dvm2");
        f.admin().setSystemDefaultDispvm("dvm2");
        f.admin().setSystemDefaultDispvm("dvm");
        assertEquals(before, refills("dvm") + refills("dvm2"));
    }

    @Test
    void turningOffTemplateForDispvmsIsGuardedAndTrims() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        // work's default_dispvm is dvm: refused.
        var e = assertThrows(RegistryException.InUse.class,
                () -> f.admin().setProperty("dvm", "template_for_dispvms", "False"));
        assertTrue(e.getMessage().contains("work"), e.getMessage());
        f.admin().resetProperty("work", "default_dispvm");
        // Only a preload depends on it now, and a self reference: allowed, queue trimmed.
        f.admin().setProperty("dvm", "default_dispvm", "dvm");
        f.admin().setProperty("dvm", "template_for_dispvms", "False");
        await().until(() -> f.queue("dvm").isEmpty());
        f.awaitNoLeaks(Set.of());
        // System default blocks too.
        f.admin().setSystemDefaultDispvm("dvm2");
        assertThrows(RegistryException.InUse.class, () -> f.admin().setProperty("dvm2", "template_for_dispvms", "False"));
        // Turning it back on with a max refills.
        f.admin().setProperty("dvm", "template_for_dispvms", "True");
        f.awaitReady("dvm", 1);
    }

    @Test
    void changingTheDvmTemplatesTemplateReplacesPreloadsAndIsRefusedWhileADisposableRuns() {
        f.admin().create("debian", QubeClass.TEMPLATE_VM, Map.of());
        for (String feature : List.of(Features.QREXEC, Features.RPC_WAIT_RUNNING, Features.RPC_WAIT_SESSION)) {
            f.admin().setFeature("debian", feature, "1");
        }
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        List<String> old = f.queue("dvm");
        f.admin().setProperty("dvm", "template", "debian");
        await().until(() -> f.queue("dvm").size() == 1 && !f.queue("dvm").equals(old));
        f.awaitReady("dvm", 1);
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertThrows(RegistryException.InUse.class, () -> f.admin().setProperty("dvm", "template", "fedora"));
        f.manager.release(d.name()).join();
        f.admin().setProperty("dvm", "template", "fedora");
    }

    @Test
    void removingADvmTemplateIsRefusedForRealDisposablesAndAllowedWithOnlyPreloads() {
        f.admin().resetProperty("work", "default_dispvm");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        var named = f.admin().createDisposable("dvm", Optional.of("named"));
        assertThrows(RegistryException.InUse.class, () -> f.admin().remove("dvm").join());
        f.admin().remove(named.name()).join();
        f.admin().remove("dvm").join();
        assertTrue(f.manager.snapshot().find("dvm").isEmpty());
        f.awaitNoLeaks(Set.of());
    }

    @Test
    void preloadsBecomeOutdatedWhenTheTemplateOrItsTemplateVmHalts() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        Set<String> old = new HashSet<>(f.queue("dvm"));
        f.admin().start("fedora").join();
        f.admin().kill("fedora").join();
        await().until(() -> f.queue("dvm").stream().noneMatch(old::contains));
        f.awaitReady("dvm", 2);
        Set<String> second = new HashSet<>(f.queue("dvm"));
        f.admin().start("dvm").join();
        f.admin().kill("dvm").join();
        await().until(() -> f.queue("dvm").stream().noneMatch(second::contains));
        f.awaitReady("dvm", 2);
    }

    @Test
    void aPropertyChangeOnTheTemplateMeansARequestGetsNoOldPreload() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String old = f.queue("dvm").get(0);
        f.admin().setProperty("dvm", "debug", "True");
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(d.name().equals(old));
        f.awaitReady("dvm", 1);
        assertFalse(f.queue("dvm").contains(old));
    }

    @Test
    void aLabelOrDefaultDispvmChangeOnAnotherQubeDoesNotOutdate() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String old = f.queue("dvm").get(0);
        f.admin().setProperty("work", "label", "blue");
        f.admin().setProperty("dvm", "default_dispvm", "dvm2");
        assertEquals(old, f.manager.obtain("dvm", "work").join().name());
    }
}
