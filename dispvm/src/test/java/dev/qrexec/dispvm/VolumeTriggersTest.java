package dev.qrexec.dispvm;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.StoragePool;
import dev.qrexec.dispvm.registry.Volumes;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Volumes through the admin API and the manager on sim (section 5 items 5, 6, 35, 36). */
class VolumeTriggersTest {

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
    void item36_afterResizingTheTemplatesPrivateARequestGetsNoOldPreloadAndTheQueueRefills() {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        f.awaitReady("dvm", 2);
        Set<String> old = new HashSet<>(f.queue("dvm"));
        f.admin().resizeVolume("dvm", "private", 8 * Volumes.GIB);
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(old.contains(d.name()), d.name() + " was preloaded before the resize");
        assertEquals(8 * Volumes.GIB, f.admin().volumes(d.name()).get("private").sizeBytes());
        await().until(() -> f.queue("dvm").size() == 2 && f.queue("dvm").stream().noneMatch(old::contains));
        f.manager.release(d.name()).join();
        f.awaitReady("dvm", 2);
        f.awaitNoLeaks(new HashSet<>(f.queue("dvm")));
    }

    @Test
    void item35_revisionsMoveOnlyWhenASavedVolumeHalts() {
        long before = f.admin().volumes("dvm").get("private").revision();
        f.admin().start("dvm").join();
        f.admin().kill("dvm").join();
        await().until(() -> f.admin().volumes("dvm").get("private").revision() == before + 1);
        assertEquals(1, f.admin().volumes("dvm").get("volatile").revision(), "volatile is never committed");
    }

    @Test
    void aNamedDisposableRecordsItsSnapshotOriginsAtEachStart() {
        f.admin().createDisposable("dvm", Optional.of("nd"));
        f.admin().start("dvm").join();
        f.admin().kill("dvm").join();
        await().until(() -> f.admin().volumes("dvm").get("private").revision() == 2);
        assertEquals("dvm:private@1", f.admin().volumes("nd").get("private").snapshotOf());
        f.admin().start("nd").join();
        assertEquals("dvm:private@2", f.admin().volumes("nd").get("private").snapshotOf());
        assertEquals("fedora:root@1", f.admin().volumes("nd").get("root").snapshotOf());
    }

    @Test
    void item5_poolsAreNamedObjectsAndADisposableFollowsItsTemplatesPool() {
        f.admin().addPool("fast", "file-reflink");
        assertThrows(RegistryException.InvalidValue.class, () -> f.admin().addPool("fast", "file"));
        assertTrue(f.admin().pools().contains(new StoragePool("fast", "file-reflink")));
        f.admin().createInPool("fastdvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms",
                "True"), Map.of("private", "fast", "volatile", "fast"));
        f.admin().setVolumeFlag("fastdvm", "volatile", "ephemeral", true);
        var d = f.admin().createDisposable("fastdvm", Optional.of("named-disp"));
        assertEquals("fast", d.volumes().get("private").pool());
        assertEquals("fast", d.volumes().get("volatile").pool());
        assertTrue(d.volumes().get("volatile").ephemeral());
        assertEquals(StoragePool.DEFAULT, d.volumes().get("root").pool(), "root follows the template's root pool");
    }

    @Test
    void item6_theSpecOfAHaltedDisposableSnapshotsItsNewTemplatesPrivate() {
        f.admin().create("dvm2", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        f.admin().createDisposable("dvm", Optional.of("nd"));
        var s = f.manager.snapshot();
        assertEquals(Optional.of("dvm"), QubeSpecFactory.privateSnapshotSource(s, s.get("nd")));
        f.admin().setProperty("nd", "template", "dvm2");
        s = f.manager.snapshot();
        assertEquals(Optional.of("dvm2"), QubeSpecFactory.privateSnapshotSource(s, s.get("nd")));
        assertEquals(Optional.empty(), QubeSpecFactory.privateSnapshotSource(s, s.get("work")));
    }
}
