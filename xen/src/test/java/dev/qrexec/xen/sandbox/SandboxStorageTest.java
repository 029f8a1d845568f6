package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** An AppVM keeps its private directory across restarts; a disposable starts from a copy and loses it. */
class SandboxStorageTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private SandboxHypervisor hypervisor;
    private final EventRecorder events = new EventRecorder();

    @BeforeEach
    void open() throws IOException {
        SandboxFixture.makeTraversable(dir);
        hypervisor = SandboxFixture.open(SandboxFixture.config(dir, SandboxFixture.uniqueInstance("st")).build());
        hypervisor.subscribe(events);
    }

    @AfterEach
    void close() {
        SandboxFixture.closeKillingAll(hypervisor);
    }

    @Test
    void appVmKeepsItsPrivateStorageAcrossRestarts() throws Exception {
        QubeSpec spec = SandboxFixture.spec(dir, SandboxFixture.templateRoot(), "app", 11)
                .init(List.of("/bin/sh", "-c", "echo run >> /rw/runs && echo note > /home/user/note"))
                .build();
        hypervisor.define(spec).get();
        hypervisor.start("app").get();
        events.awaitKinds("app", WAIT, Kind.STARTED, Kind.DIED);
        hypervisor.start("app").get();
        events.awaitKinds("app", WAIT, Kind.STARTED, Kind.DIED, Kind.STARTED, Kind.DIED);
        Path privateDir = spec.privateStorage().orElseThrow();
        assertEquals(List.of("run", "run"), Files.readAllLines(privateDir.resolve("runs")));
        assertEquals(List.of("note"), Files.readAllLines(privateDir.resolve("home/user/note")));
        assertEquals(hypervisor.hostUid(spec), PrivateStorage.ownerUid(privateDir.resolve("runs")));
        assertEquals("init exited with status 0", events.of("app").get(1).reason());
    }

    @Test
    void disposableStartsFromACopyAndDiscardsItAtStop() throws Exception {
        Path source = Files.createDirectories(dir.resolve("dvm-template-private/home/user")).getParent().getParent();
        Files.writeString(source.resolve("data"), "from-template\n");
        QubeSpec spec = SandboxFixture.spec(dir, SandboxFixture.templateRoot(), "disp", 12)
                .privateSource(source)
                .discardOnStop(true)
                .init(List.of("/bin/sh", "-c", "cat /rw/data > /rw/seen; echo changed > /rw/data;"
                        + " echo mine > /home/user/file; " + String.join(" ", SandboxFixture.IDLE_INIT.get(2))))
                .build();
        Path copy = spec.privateStorage().orElseThrow();
        hypervisor.define(spec).get();
        for (int round = 0; round < 2; round++) {
            hypervisor.start("disp").get();
            await().atMost(WAIT).until(() -> Files.exists(copy.resolve("home/user/file")));
            assertEquals(List.of("from-template"), Files.readAllLines(copy.resolve("seen")),
                    "each start sees the template's data, not the previous run's change");
            assertEquals(List.of("changed"), Files.readAllLines(copy.resolve("data")));
            hypervisor.shutdown("disp", Duration.ofSeconds(10)).get();
            assertFalse(Files.exists(copy), "private copy discarded at stop");
            assertEquals(List.of("from-template"), Files.readAllLines(source.resolve("data")), "source untouched");
            assertFalse(Files.exists(source.resolve("seen")));
        }
        events.awaitKinds("disp", WAIT, Kind.STARTED, Kind.HALTED, Kind.STARTED, Kind.HALTED);
    }
}
