package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.xen.HostMemory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Feature parsing and the effective maximum (spec 5, items 8, 10-13, 31's arithmetic). */
class PreloadSettingsTest {

    private static final long MIB = 1L << 20;

    private static RegistryState base() {
        RegistryState s = RegistryState.initial();
        s = Mutations.createQube(s, "fedora", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        return Mutations.createQube(s, "other", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
    }

    private static RegistryState feature(RegistryState s, String q, String k, String v) {
        return s.with(s.get(q).withFeature(k, v));
    }

    @Test
    void maxValuesParse() {
        assertEquals(0, PreloadSettings.effectiveMax(base(), "dvm"));
        assertEquals(0, PreloadSettings.parseMax(""));
        assertEquals(0, PreloadSettings.parseMax("0"));
        assertEquals(2, PreloadSettings.parseMax("2"));
        assertEquals(10000, PreloadSettings.parseMax("10000"));
        for (String bad : List.of("a", "-1", "1 1")) {
            assertThrows(RegistryException.InvalidValue.class, () -> PreloadSettings.parseMax(bad), bad);
        }
    }

    @Test
    void delayAndThresholdParse() {
        for (String ok : List.of("", "0", "1", "-1", "3.14")) {
            assertDoesNotThrow(() -> PreloadSettings.parseDelay(ok), ok);
        }
        for (String bad : List.of("a", ".2.", "1 1")) {
            assertThrows(RegistryException.InvalidValue.class, () -> PreloadSettings.parseDelay(bad), bad);
        }
        for (String bad : List.of("a", "-1", "1 1")) {
            assertThrows(RegistryException.InvalidValue.class, () -> PreloadSettings.parseThresholdBytes(bad), bad);
        }
        assertEquals(0, PreloadSettings.parseThresholdBytes(""));
        assertEquals(MIB, PreloadSettings.parseThresholdBytes("1"));
        RegistryState s = base();
        assertEquals(3.0, PreloadSettings.delaySeconds(s, "dvm"));
        s = feature(s, "dom0", Features.PRELOAD_DISPVM_DELAY, "7");
        assertEquals(7.0, PreloadSettings.delaySeconds(s, "dvm"));
        s = feature(s, "dvm", Features.PRELOAD_DISPVM_DELAY, "-1");
        assertEquals(-1.0, PreloadSettings.delaySeconds(s, "dvm"));
    }

    @Test
    void globalMaxAppliesToTheSystemDefaultOnlyWhilePresent() {
        RegistryState s = feature(base(), "dvm", Features.PRELOAD_DISPVM_MAX, "1");
        assertEquals(1, PreloadSettings.effectiveMax(s, "dvm"));
        s = feature(s, "dom0", Features.PRELOAD_DISPVM_MAX, "");
        assertEquals(1, PreloadSettings.effectiveMax(s, "dvm"), "not the system default yet");
        s = Mutations.setSystemDefaultDispvm(s, "dvm");
        assertEquals(0, PreloadSettings.effectiveMax(s, "dvm"), "empty global means 0");
        s = feature(s, "dom0", Features.PRELOAD_DISPVM_MAX, "3");
        assertEquals(3, PreloadSettings.effectiveMax(s, "dvm"));
        assertEquals(0, PreloadSettings.effectiveMax(s, "other"));
        s = Mutations.setSystemDefaultDispvm(s, "");
        assertEquals(1, PreloadSettings.effectiveMax(s, "dvm"));
    }

    @Test
    void preloadEnabledTemplatesFollowTheGlobalRules() {
        RegistryState s = feature(base(), "dvm", Features.PRELOAD_DISPVM_MAX, "1");
        assertEquals(List.of("dvm"), PreloadSettings.preloadEnabled(s));
        s = feature(s, "dom0", Features.PRELOAD_DISPVM_MAX, "");
        assertEquals(List.of("dvm"), PreloadSettings.preloadEnabled(s), "no system default: the local value counts");
        s = Mutations.setSystemDefaultDispvm(s, "other");
        assertEquals(List.of("dvm"), PreloadSettings.preloadEnabled(s));
        s = Mutations.setSystemDefaultDispvm(s, "dvm");
        assertEquals(List.of(), PreloadSettings.preloadEnabled(s), "empty global drops the default at once");
        s = feature(s, "dom0", Features.PRELOAD_DISPVM_MAX, "2");
        assertEquals(List.of("dvm"), PreloadSettings.preloadEnabled(s));
    }

    @Test
    void theQueueCannotGrowPastTheMaxNorHoldDuplicatesStrangersOrOtherTemplatesQubes() {
        RegistryState s = feature(base(), "dvm", Features.PRELOAD_DISPVM_MAX, "2");
        var a = Mutations.createDisposable(s, "dvm", Optional.empty(), 0, Map.of());
        var b = Mutations.createDisposable(a.state(), "dvm", Optional.empty(), 0, Map.of());
        var c = Mutations.createDisposable(b.state(), "dvm", Optional.empty(), 0, Map.of());
        var o = Mutations.createDisposable(c.state(), "other", Optional.empty(), 0, Map.of());
        RegistryState t = o.state();
        PreloadSettings.validateList(t, "dvm", List.of(), List.of(a.name(), b.name()));
        assertThrows(RegistryException.InvalidValue.class,
                () -> PreloadSettings.validateList(t, "dvm", List.of(), List.of(a.name(), b.name(), c.name())));
        // Shrinking while above the max is fine.
        PreloadSettings.validateList(t, "dvm", List.of(a.name(), b.name(), c.name()), List.of(a.name(), b.name()));
        assertThrows(RegistryException.InvalidValue.class,
                () -> PreloadSettings.validateList(t, "dvm", List.of(), List.of(a.name(), a.name())));
        assertThrows(RegistryException.InvalidValue.class,
                () -> PreloadSettings.validateList(t, "dvm", List.of(), List.of("ghost")));
        assertThrows(RegistryException.InvalidValue.class,
                () -> PreloadSettings.validateList(t, "dvm", List.of(), List.of(o.name())));
        PreloadSettings.validateList(t, "dvm", List.of(a.name()), List.of());
        assertEquals(List.of(), RegistryState.parseList("  "));
    }

    @Test
    void theMemoryGateCountsTemplateMemoryAgainstFreeMinusThreshold() {
        long tpl = 400 * MIB;
        assertEquals(1, MemoryGate.fit(new HostMemory(0, 400 * MIB), 0, tpl, 2));
        assertEquals(1, MemoryGate.fit(new HostMemory(0, 800 * MIB), 400 * MIB, tpl, 2));
        assertEquals(0, MemoryGate.fit(new HostMemory(0, 300 * MIB), 400 * MIB, tpl, 2));
        assertEquals(2, MemoryGate.fit(new HostMemory(0, 8000 * MIB), 0, tpl, 2));
        assertEquals(0, MemoryGate.fit(new HostMemory(0, 8000 * MIB), 0, tpl, 0));
    }
}
