package dev.qrexec.dispvm.store;

import dev.qrexec.dispvm.registry.DispIds;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegistryStoreTest {

    @TempDir
    Path dir;

    private RegistryState sample() {
        RegistryState s = RegistryState.initial();
        s = Mutations.createQube(s, "fedora", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        s = s.with(s.get("dvm").withFeature("empty", "").withFeature("x", "1").withTag("t1"));
        s = Mutations.createDisposable(s, "dvm", Optional.empty(), 1000, Map.of()).state();
        s = Mutations.setSystemDefaultDispvm(s, "dvm");
        return DispIds.release(s, 42, 1000, DispIds.REUSE_WINDOW);
    }

    @Test
    void roundTripKeepsEverythingIncludingEmptyFeaturesAndTheDispidWindow() {
        RegistryState s = sample();
        try (RegistryStore store = RegistryStore.open(dir)) {
            store.write(s);
            RegistryState back = store.load();
            assertEquals(s.qubes(), back.qubes());
            assertEquals(s.system(), back.system());
            assertEquals(s.recentDispids(), back.recentDispids());
            assertEquals(s.nextDomainId(), back.nextDomainId());
            assertEquals(Optional.of(""), back.get("dvm").feature("empty"));
            assertEquals(Optional.empty(), back.get("dvm").feature("absent"));
        }
    }

    @Test
    void aMissingFileMeansOnlyDom0() {
        try (RegistryStore store = RegistryStore.open(dir)) {
            RegistryState s = store.load();
            assertEquals(1, s.qubes().size());
            assertEquals(0, s.get("dom0").domainId());
        }
    }

    @Test
    void aCorruptFileIsRefusedWithTheReason() throws Exception {
        Files.writeString(dir.resolve("qubes.json"), "{\"schema\":1,\"generation\":", StandardCharsets.UTF_8);
        try (RegistryStore store = RegistryStore.open(dir)) {
            var e = assertThrows(RegistryException.StoreFailure.class, store::load);
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        }
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        Files.writeString(dir.resolve("qubes.json"), "{\"schema\":99}", StandardCharsets.UTF_8);
        try (RegistryStore store = RegistryStore.open(dir)) {
            var e = assertThrows(RegistryException.StoreFailure.class, store::load);
            assertTrue(e.getMessage().contains("schema 99"), e.getMessage());
        }
    }

    @Test
    void duplicateDomainIdsAreRefused() throws Exception {
        try (RegistryStore store = RegistryStore.open(dir)) {
            store.write(sample());
        }
        String json = Files.readString(dir.resolve("qubes.json")).replaceAll("\"domainId\" : [1-9][0-9]*", "\"domainId\" : 7");
        Files.writeString(dir.resolve("qubes.json"), json);
        try (RegistryStore store = RegistryStore.open(dir)) {
            var e = assertThrows(RegistryException.StoreFailure.class, store::load);
            assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
        }
    }

    @Test
    void aStaleTempFileFromACrashIsIgnored() throws Exception {
        try (RegistryStore store = RegistryStore.open(dir)) {
            store.write(sample());
        }
        Files.writeString(dir.resolve("qubes.json.tmp"), "{half", StandardCharsets.UTF_8);
        try (RegistryStore store = RegistryStore.open(dir)) {
            assertTrue(store.load().find("dvm").isPresent());
            assertFalse(Files.exists(dir.resolve("qubes.json.tmp")));
        }
    }

    @Test
    void aSecondDaemonCannotOpenTheSameStore() {
        try (RegistryStore store = RegistryStore.open(dir)) {
            var e = assertThrows(RegistryException.StoreFailure.class, () -> RegistryStore.open(dir));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }

    @Test
    void groupCommitAcknowledgesEveryChangeWithFewerWrites() {
        try (RegistryStore store = RegistryStore.open(dir); StoreWriter writer = new StoreWriter(store)) {
            QubeRegistry registry = new QubeRegistry(store.load(), writer);
            var commits = new java.util.ArrayList<QubeRegistry.Commit>();
            for (int i = 0; i < 200; i++) {
                String n = "q" + i;
                commits.add(registry.update(s -> Mutations.createQube(s, n, QubeClass.STANDALONE_VM, Map.of())));
            }
            commits.forEach(QubeRegistry.Commit::awaitDurable);
            assertTrue(writer.writes() < 200, "group commit folded nothing: " + writer.writes() + " writes");
            assertEquals(201, store.load().qubes().size());
            assertEquals(registry.snapshot().generation(), store.load().generation());
        }
    }
}
