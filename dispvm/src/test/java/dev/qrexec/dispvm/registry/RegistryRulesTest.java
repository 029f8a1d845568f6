package dev.qrexec.dispvm.registry;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registry rules that need no hypervisor: classes, properties, dispids, system info. */
class RegistryRulesTest {

    private static RegistryState base() {
        RegistryState s = RegistryState.initial();
        s = Mutations.createQube(s, "fedora", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        return Mutations.createQube(s, "work", QubeClass.APP_VM, Map.of("template", "fedora"));
    }

    @Test
    void domainIdsAreUniqueAndDom0IsZero() {
        RegistryState s = base();
        assertEquals(0, s.get("dom0").domainId());
        Set<Integer> ids = new java.util.HashSet<>();
        s.qubes().values().forEach(q -> assertTrue(ids.add(q.domainId())));
        assertThrows(RegistryException.AlreadyExists.class,
                () -> Mutations.createQube(base(), "work", QubeClass.APP_VM, Map.of("template", "fedora")));
        assertThrows(RegistryException.NotAllowed.class,
                () -> Mutations.createQube(base(), "dom1", QubeClass.ADMIN_VM, Map.of()));
    }

    @Test
    void namesPropertiesAndReferencesAreValidated() {
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.createQube(base(), "1bad", QubeClass.STANDALONE_VM, Map.of()));
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.createQube(base(), "x", QubeClass.APP_VM, Map.of()));
        assertThrows(RegistryException.InvalidValue.class,
                () -> Mutations.createQube(base(), "x", QubeClass.APP_VM, Map.of("template", "work")));
        RegistryState s = base();
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.setProperty(s, "work", "label", "pink", n -> false, n -> false));
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.setProperty(s, "work", "memory", "-5", n -> false, n -> false));
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.setProperty(s, "work", "netvm", "nope", n -> false, n -> false));
        assertThrows(RegistryException.NotAllowed.class, () -> Mutations.setProperty(s, "work", "uuid", "x", n -> false, n -> false));
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.setProperty(s, "work", "default_dispvm", "work", n -> false, n -> false));
        assertEquals("True", Mutations.setProperty(s, "work", "debug", "1", n -> false, n -> false).get("work").properties().get("debug"));
        assertThrows(RegistryException.NotAllowed.class, () -> Mutations.setProperty(s, "fedora", "template_for_dispvms", "True", n -> false, n -> false));
    }

    @Test
    void defaultDispvmFollowsTheSystemExceptForDisposables() {
        RegistryState s = Mutations.setSystemDefaultDispvm(base(), "dvm");
        assertEquals("dvm", s.property(s.get("work"), "default_dispvm"));
        assertEquals("dvm", s.property(s.get("dom0"), "default_dispvm"));
        RegistryState s2 = Mutations.createQube(s, "dvm2", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        s2 = Mutations.setSystemDefaultDispvm(s2, "dvm2");
        var c = Mutations.createDisposable(s2, "dvm", Optional.empty(), 0, Map.of());
        assertEquals("dvm", c.state().property(c.state().get(c.name()), "default_dispvm"), "own template, not the system's");
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.setSystemDefaultDispvm(base(), "work"));
    }

    @Test
    void disposablesCopyFeaturesExceptPreloadOnesAndTags() {
        RegistryState s = base();
        s = s.with(s.get("dvm").withFeature("gui", "1").withFeature(Features.PRELOAD_DISPVM_MAX, "2").withTag("web"));
        var c = Mutations.createDisposable(s, "dvm", Optional.empty(), 0, Map.of());
        Qube d = c.state().get(c.name());
        assertEquals(Optional.of("1"), d.feature("gui"));
        assertFalse(d.features().containsKey(Features.PRELOAD_DISPVM_MAX));
        assertTrue(d.tags().contains("web"));
        assertEquals(QubeClass.DISP_VM, d.klass());
        assertThrows(RegistryException.NotAllowed.class,
                () -> Mutations.resetProperty(c.state(), c.name(), "template", n -> false));
    }

    @Test
    void dispidsAreDrawnFromTheRangeAndNotReusedWithinTheWindow() {
        RegistryState s = base();
        // Every id but 7 was released just now: the only drawable one is 7, or it gives up after 100 draws.
        Map<Integer, Long> recent = new java.util.HashMap<>();
        for (int i = 0; i < DispIds.MAX_DISPID; i++) {
            if (i != 7) {
                recent.put(i, 1_000L);
            }
        }
        RegistryState full = s.withRecentDispids(recent);
        Random alwaysSeven = new Random() {
            @Override
            public int nextInt(int bound) {
                return 7;
            }
        };
        assertEquals(7, DispIds.allocate(full, 2_000, DispIds.REUSE_WINDOW, alwaysSeven));
        RegistryState none = full.withRecentDispids(Map.of(7, 1_000L));
        assertThrows(RegistryException.InvalidValue.class, () -> DispIds.allocate(none, 2_000, DispIds.REUSE_WINDOW, alwaysSeven));
        // Past the window the id is free again, and release() drops expired entries.
        long later = 1_000L + DispIds.REUSE_WINDOW.toMillis();
        assertEquals(7, DispIds.allocate(none, later, DispIds.REUSE_WINDOW, alwaysSeven));
        assertEquals(Set.of(8), DispIds.release(none, 8, later, DispIds.REUSE_WINDOW).recentDispids().keySet());
        for (int i = 0; i < 200; i++) {
            int id = DispIds.allocate(s, 0);
            assertTrue(id >= 0 && id < 10_000);
        }
    }

    @Test
    void removingAQubeOthersDependOnIsRefused() {
        RegistryState s = base();
        var e = assertThrows(RegistryException.InUse.class, () -> Mutations.removeQube(s, "fedora", n -> false, n -> false, 0));
        assertTrue(e.getMessage().contains("dvm (template)"), e.getMessage());
        assertThrows(RegistryException.NotAllowed.class, () -> Mutations.removeQube(s, "work", n -> true, n -> false, 0));
        assertThrows(RegistryException.NotAllowed.class, () -> Mutations.removeQube(s, "dom0", n -> false, n -> false, 0));
        assertTrue(Mutations.removeQube(s, "work", n -> false, n -> false, 0).find("work").isEmpty());
    }

    @Test
    void systemInfoHasTheGetSystemInfoShapeAndAGrowingVersion() {
        RegistryState s = Mutations.setSystemDefaultDispvm(base(), "dvm");
        s = s.with(s.get("work").withTag("tag1").withFeature(Features.INTERNAL, "1"));
        QubeRegistry r = new QubeRegistry(s, null);
        SystemInfo a = r.systemInfo();
        JsonNode d = a.tree().path("domains");
        assertEquals("AdminVM", d.path("dom0").path("type").asText());
        assertEquals("00000000-0000-0000-0000-000000000000", d.path("dom0").path("uuid").asText());
        assertEquals("Running", d.path("dom0").path("power_state").asText());
        assertTrue(d.path("dom0").path("guivm").isNull());
        JsonNode w = d.path("work");
        assertEquals("AppVM", w.path("type").asText());
        assertEquals("tag1", w.path("tags").get(0).asText());
        assertEquals("dvm", w.path("default_dispvm").asText());
        assertEquals("appvm-red", w.path("icon").asText());
        assertEquals("Halted", w.path("power_state").asText());
        assertTrue(w.path("internal").asBoolean());
        assertTrue(d.path("dvm").path("template_for_dispvms").asBoolean());
        assertTrue(d.path("dvm").path("internal").isNull());
        for (String key : new String[] {"label", "guivm", "relayvm", "transport_rpc", "uuid"}) {
            assertTrue(w.has(key), key);
        }
        assertEquals(a, r.systemInfo(), "cached while nothing changes");
        r.powerChanged("work", "Running");
        SystemInfo b = r.systemInfo();
        assertTrue(b.version() > a.version());
        assertEquals("Running", b.tree().path("domains").path("work").path("power_state").asText());
        r.update(st -> st.with(st.get("work").withTag("tag2")));
        assertTrue(r.systemInfo().version() > b.version());
        assertTrue(r.systemInfo().json().contains("\"tag2\""));
    }

    @Test
    void theWindowConstantMatchesTheSpec() {
        assertEquals(Duration.ofDays(7), DispIds.REUSE_WINDOW);
        assertEquals(100, DispIds.MAX_DRAWS);
    }
}
