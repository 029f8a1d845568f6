package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Many qubes at once: operations on different qubes overlap, those on one qube stay in order. */
class SandboxConcurrencyTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int QUBES = 8;

    @TempDir
    Path dir;
    private SandboxHypervisor hypervisor;
    private final EventRecorder events = new EventRecorder();

    @BeforeEach
    void open() throws IOException {
        SandboxFixture.makeTraversable(dir);
        hypervisor = SandboxFixture.open(SandboxFixture.config(dir, SandboxFixture.uniqueInstance("many")).build());
        hypervisor.subscribe(events);
    }

    @AfterEach
    void close() {
        SandboxFixture.closeKillingAll(hypervisor);
    }

    @Test
    void qubesStartPauseAndDieTogetherWithoutMixingUp() throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < QUBES; i++) {
            String name = "many" + i;
            hypervisor.define(SandboxFixture.spec(dir, SandboxFixture.templateRoot(), name, 60 + i).build()).get();
            names.add(name);
        }
        // every operation submitted at once: each qube's lane keeps its own order
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String name : names) {
            all.add(hypervisor.start(name));
            all.add(hypervisor.pause(name));
            all.add(hypervisor.unpause(name));
            all.add(hypervisor.pause(name));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (String name : names) {
            assertEquals(QubeState.PAUSED, hypervisor.state(name), name);
        }
        List<CompletableFuture<Void>> kills = new ArrayList<>();
        for (int i = 0; i < QUBES; i++) {
            String name = names.get(i);
            kills.add(i % 2 == 0 ? hypervisor.kill(name) : hypervisor.shutdown(name, Duration.ofSeconds(20)));
        }
        CompletableFuture.allOf(kills.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (String name : names) {
            events.awaitKinds(name, WAIT, Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED, Kind.PAUSED, Kind.HALTED);
            assertEquals(QubeState.HALTED, hypervisor.state(name));
            assertFalse(Files.exists(Path.of("/sys/fs/cgroup/freezer", "qrexec." + hypervisor.config().instance(), name)));
            int uid = hypervisor.hostUid(hypervisor.spec(name));
            await().atMost(WAIT).until(() -> SandboxFixture.processesOfUid(uid), List::isEmpty);
        }
        assertEquals(1, events.threads().size(), () -> "events came on " + events.threads());
        assertEquals(hypervisor.hostMemory().totalBytes(), hypervisor.hostMemory().freeBytes(), "all memory back");
    }
}
