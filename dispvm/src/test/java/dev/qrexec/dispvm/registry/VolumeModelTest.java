package dev.qrexec.dispvm.registry;

import dev.qrexec.dispvm.preload.Outdated;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The volume model of spec 1.3 and the outdated check of 2.7 (section 5 items 5, 6, 35, 36, 38). */
class VolumeModelTest {

    private static RegistryState base() {
        RegistryState s = RegistryState.initial();
        s = Mutations.createQube(s, "fedora", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "debian", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        return Mutations.createQube(s, "dvm2", QubeClass.APP_VM,
                Map.of("template", "debian", "template_for_dispvms", "True"));
    }

    private static Mutations.Created disposable(RegistryState s, String dvm) {
        return Mutations.createDisposable(s, dvm, Optional.empty(), 1000, Map.of());
    }

    private static String origin(RegistryState s, String qube, String volume) {
        return Volumes.origin(s, qube, volume).map(l -> l.qube() + ":" + l.volume().name()).orElse("none");
    }

    @Test
    void item6_aDisposableGetsTheSpecTableSnapshotsOfTheDvmTemplate() {
        RegistryState s = base();
        Mutations.Created c = disposable(s, "dvm");
        Qube d = c.state().get(c.name());
        Volume root = d.volume("root").orElseThrow();
        Volume priv = d.volume("private").orElseThrow();
        Volume vol = d.volume("volatile").orElseThrow();
        Volume kernel = d.volume("kernel").orElseThrow();
        assertTrue(root.snapOnStart() && !root.saveOnStop() && root.rw());
        assertTrue(priv.snapOnStart() && !priv.saveOnStop() && priv.rw());
        assertTrue(!vol.snapOnStart() && !vol.saveOnStop() && vol.rw());
        assertTrue(!kernel.snapOnStart() && !kernel.saveOnStop() && !kernel.rw());
        assertEquals("dvm:root", root.source());
        assertEquals("dvm:private", priv.source());
        assertEquals(Volumes.DEFAULT_ROOT_SIZE + Volumes.DEFAULT_PRIVATE_SIZE, vol.sizeBytes());
        // root resolves through the dvm template to its TemplateVM; private is the dvm template's own.
        assertEquals("fedora:root", origin(c.state(), c.name(), "root"));
        assertEquals("dvm:private", origin(c.state(), c.name(), "private"));
        assertEquals("fedora:root@1", root.snapshotOf());
        assertEquals(List.of(), Volumes.outdated(c.state(), d));
    }

    @Test
    void item6_snapshotsFollowTheDvmTemplatesTemplateAndAHaltedDisposablesTemplate() {
        Mutations.Created c = disposable(base(), "dvm");
        RegistryState s = Mutations.setProperty(c.state(), "dvm", "template", "debian", n -> false, n -> false);
        assertEquals("debian:root", s.get("dvm").volume("root").orElseThrow().source());
        assertEquals("debian:root", origin(s, c.name(), "root"), "the disposable's root follows through dvm");
        s = Mutations.setProperty(s, c.name(), "template", "dvm2", n -> false, n -> false);
        Qube d = s.get(c.name());
        assertEquals("dvm2:root", d.volume("root").orElseThrow().source());
        assertEquals("dvm2:private", d.volume("private").orElseThrow().source());
        assertEquals("dvm2:private", origin(s, c.name(), "private"));
        RegistryState before = s;
        assertThrows(RegistryException.NotAllowed.class, () -> Mutations.setProperty(before, c.name(), "template",
                "dvm", n -> n.equals(c.name()), n -> false), "only while halted");
    }

    @Test
    void item5_poolsFollowTheDvmTemplateAndVolatileIsEphemeralOnlyIfTheTemplatesIs() {
        RegistryState s = base().withPool(new StoragePool("alt", "lvm_thin"));
        s = Mutations.createQube(s, "altdvm", QubeClass.APP_VM,
                Map.of("template", "fedora", "template_for_dispvms", "True"),
                Map.of("private", "alt", "volatile", "alt", "root", "alt"));
        Mutations.Created c = disposable(s, "altdvm");
        Qube d = c.state().get(c.name());
        for (String v : List.of("root", "private", "volatile")) {
            assertEquals("alt", d.volume(v).orElseThrow().pool(), v);
        }
        assertEquals(StoragePool.KERNELS, d.volume("kernel").orElseThrow().pool());
        assertFalse(d.volume("volatile").orElseThrow().ephemeral());
        s = Volumes.setFlag(c.state(), "altdvm", "volatile", "ephemeral", true);
        Mutations.Created e = disposable(s, "altdvm");
        assertTrue(e.state().get(e.name()).volume("volatile").orElseThrow().ephemeral());
        assertThrows(RegistryException.InvalidValue.class, () -> Mutations.createQube(base(), "x", QubeClass.APP_VM,
                Map.of("template", "fedora"), Map.of("private", "nope")));
    }

    @Test
    void item35_aHaltOfTheDvmTemplateOrItsTemplateVmOutdatesSnapshotsByRevision() {
        Mutations.Created c = disposable(base(), "dvm");
        RegistryState s = Volumes.committedOnStop(c.state(), "dvm");
        assertEquals(Optional.of(new Outdated.Reason(Outdated.Kind.VOLUMES_OUTDATED, List.of("private"))),
                Outdated.check(s, s.get(c.name())));
        s = Volumes.committedOnStop(c.state(), "fedora");
        assertEquals(Optional.of(new Outdated.Reason(Outdated.Kind.VOLUMES_OUTDATED, List.of("root"))),
                Outdated.check(s, s.get(c.name())));
        // A qube unrelated to the preload moves nothing.
        s = Volumes.committedOnStop(c.state(), "debian");
        assertEquals(Optional.empty(), Outdated.check(s, s.get(c.name())));
        // A preload made after the halt is current again.
        Mutations.Created fresh = disposable(Volumes.committedOnStop(c.state(), "dvm"), "dvm");
        assertEquals(Optional.empty(), Outdated.check(fresh.state(), fresh.state().get(fresh.name())));
    }

    @Test
    void item36_resizingTheTemplatesPrivateOutdatesBySizeFirst() {
        Mutations.Created c = disposable(base(), "dvm");
        RegistryState s = Volumes.resize(c.state(), "dvm", "private", 4 * Volumes.GIB);
        assertEquals(4 * Volumes.GIB, s.get("dvm").volume("private").orElseThrow().sizeBytes());
        assertEquals(2, s.get("dvm").volume("private").orElseThrow().revision());
        assertEquals(Optional.of(new Outdated.Reason(Outdated.Kind.VOLUMES_SIZE, List.of("private"))),
                Outdated.check(s, s.get(c.name())));
        RegistryState r = s;
        assertThrows(RegistryException.InvalidValue.class, () -> Volumes.resize(r, "dvm", "private", Volumes.GIB));
        assertThrows(RegistryException.NotAllowed.class, () -> Volumes.resize(r, "dvm", "kernel", Volumes.GIB));
        assertThrows(RegistryException.InvalidValue.class, () -> Volumes.resize(r, "dvm", "nope", Volumes.GIB));
    }

    @Test
    void item38_propertyDifferencesAreNamedAndIgnoredOnesAreNot() {
        Mutations.Created c = disposable(base(), "dvm");
        RegistryState s = Mutations.setProperty(c.state(), "dvm", "debug", "True", n -> false, n -> false);
        assertEquals(Optional.of(new Outdated.Reason(Outdated.Kind.PROPERTIES, List.of("debug"))),
                Outdated.check(s, s.get(c.name())));
        s = Mutations.setProperty(c.state(), "dvm", "netvm", "dvm2", n -> false, n -> false);
        assertEquals(List.of("netvm"), Outdated.check(s, s.get(c.name())).orElseThrow().details());
        s = Mutations.setProperty(c.state(), "dvm", "default_dispvm", "dvm2", n -> false, n -> false);
        s = Mutations.setProperty(s, "dvm", "include_in_backups", "False", n -> false, n -> false);
        assertEquals(Optional.empty(), Outdated.check(s, s.get(c.name())));
        assertEquals("properties [debug]", new Outdated.Reason(Outdated.Kind.PROPERTIES, List.of("debug")).toString());
    }

    @Test
    void volumesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new Volume("root", "p", 1, true, true, true, false,
                "a:root", 1, ""), "snap and save at once");
        assertThrows(IllegalArgumentException.class, () -> new Volume("root", "p", 1, true, false, true, false,
                "", 1, ""), "a snapshot needs a source");
        assertThrows(IllegalArgumentException.class, () -> new Volume("root", "p", -1, false, false, true, false,
                "", 1, ""));
        assertThrows(RegistryException.InvalidValue.class, () -> new StoragePool("p", "ext9"));
        assertThrows(RegistryException.InvalidValue.class,
                () -> Volumes.setFlag(base(), "dvm", "private", "ephemeral", true), "saved volumes keep data");
        // A broken chain (source gone) is reported as outdated rather than trusted.
        Mutations.Created c = disposable(base(), "dvm");
        Qube d = c.state().get(c.name());
        Qube broken = d.withVolume(d.volume("root").orElseThrow().withSource("ghost:root"));
        assertEquals(List.of("root"), Volumes.outdated(c.state(), broken));
        assertEquals(0, RegistryState.initial().get("dom0").volumes().size());
    }
}
