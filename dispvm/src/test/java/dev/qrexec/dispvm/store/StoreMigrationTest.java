package dev.qrexec.dispvm.store;

import dev.qrexec.dispvm.preload.Outdated;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.StoragePool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A store written by a schema-1 daemon (no volumes, digest-based outdated check) loads and upgrades. */
class StoreMigrationTest {

    @TempDir
    Path dir;

    private static String qube(String name, String klass, int id, String props, String features) {
        return "{\"name\":\"" + name + "\",\"klass\":\"" + klass + "\",\"domainId\":" + id + ",\"uuid\":\""
                + new java.util.UUID(0, id) + "\",\"properties\":{" + props + "},\"features\":{" + features
                + "},\"tags\":[]}";
    }

    private static final String SCHEMA_1 = "{\"schema\":1,\"generation\":7,\"nextDomainId\":6,"
            + "\"system\":{\"default_dispvm\":\"dvm\"},\"recentDispids\":{},\"qubes\":["
            + qube("dom0", "AdminVM", 0, "", "") + ","
            + qube("fedora", "TemplateVM", 1, "", "\"preload-dispvm-revision\":\"2\"") + ","
            + qube("dvm", "AppVM", 2, "\"template\":\"fedora\",\"template_for_dispvms\":\"True\"",
            "\"preload-dispvm\":\"disp11 disp12\",\"preload-dispvm-max\":\"2\"") + ","
            + qube("disp11", "DispVM", 3, "\"template\":\"dvm\",\"dispid\":\"11\",\"auto_cleanup\":\"True\"",
            "\"preload-dispvm-origin\":\"000000000000000000000000\",\"preload-dispvm-completed\":\"1\"") + ","
            + qube("named", "DispVM", 4, "\"template\":\"dvm\",\"dispid\":\"12\"", "") + ","
            + qube("remote", "RemoteVM", 5, "", "")
            + "]}";

    @Test
    void aSchema1StoreLoadsWithVolumesAndStalePreloadsAreOutdated() throws Exception {
        Files.writeString(dir.resolve(RegistryStore.FILE), SCHEMA_1, StandardCharsets.UTF_8);
        RegistryState s;
        try (RegistryStore store = RegistryStore.open(dir)) {
            s = store.load();
            assertEquals(7, s.generation());
            assertEquals(RegistryState.defaultPools(), s.pools());
            // The template's old storage revision (2 bumps) carries over to its saved volumes.
            assertEquals(3, s.get("fedora").volume("root").orElseThrow().revision());
            assertEquals(3, s.get("fedora").volume("private").orElseThrow().revision());
            assertEquals("fedora:root", s.get("dvm").volume("root").orElseThrow().source());
            assertTrue(s.get("remote").volumes().isEmpty());
            assertTrue(s.get("dom0").volumes().isEmpty());
            // disp11's old digest does not match: outdated by volumes; the named one is current.
            assertEquals(Outdated.Kind.VOLUMES_OUTDATED, Outdated.check(s, s.get("disp11")).orElseThrow().kind());
            assertEquals(Optional.empty(), Outdated.check(s, s.get("named")));
            for (var q : s.qubes().values()) {
                assertFalse(q.features().containsKey(Features.LEGACY_PRELOAD_ORIGIN), q.name());
                assertFalse(q.features().containsKey(Features.LEGACY_STORAGE_REVISION), q.name());
            }
            store.write(s);
        }
        String written = Files.readString(dir.resolve(RegistryStore.FILE), StandardCharsets.UTF_8);
        assertTrue(written.contains("\"schema\" : 2"), written.substring(0, 40));
        try (RegistryStore store = RegistryStore.open(dir)) {
            RegistryState again = store.load();
            assertEquals(s.qubes(), again.qubes(), "schema 2 round trip");
            assertEquals(List.of(StoragePool.KERNELS, StoragePool.DEFAULT), List.copyOf(again.pools().keySet()));
        }
    }
}
