package dev.qrexec.dispvm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.dispvm.preload.PreloadStage;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request takes the oldest ready preload before an older one still being created (Qubes takes the
 * oldest whatever its state, and the caller then waits for its boot); with none ready, the oldest
 * one in creation is still taken.
 */
class ReadyPreloadFirstTest {

    @TempDir
    Path dir;
    Fixture f;
    /** qube → its readiness answer, which the test gives. */
    final Map<String, CompletableFuture<Void>> answers = new ConcurrentHashMap<>();

    @AfterEach
    void tearDown() {
        f.close();
    }

    private CompletableFuture<Void> answer(String qube) {
        return answers.computeIfAbsent(qube, q -> new CompletableFuture<>());
    }

    @Test
    void aReadyPreloadIsHandedOutBeforeAnOlderOneStillBooting() {
        QubeReadiness controlled = (qube, services, timeout) -> answer(qube);
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(), b -> b.readiness(controlled))
                .withTemplates();
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        await().until(() -> f.queue("dvm").size() == 2 && answers.size() == 2);
        List<String> queue = f.queue("dvm");
        String older = queue.get(0);
        String younger = queue.get(1);
        answer(younger).complete(null);
        await().until(() -> f.manager.engine().handle(younger).map(h -> h.stage() == PreloadStage.READY).orElse(false));
        assertEquals(PreloadStage.WAITING_OPERATIONAL, f.manager.engine().handle(older).orElseThrow().stage());

        Disposable d = f.manager.obtain("dvm", "dom0").join();
        assertEquals(younger, d.name(), "the ready one, not the older one still booting");
        assertTrue(d.preloaded());
        assertTrue(f.queue("dvm").contains(older), "the older one stays in the queue");

        // With none ready, the oldest in creation is taken (the caller waits for it).
        CompletableFuture<Disposable> waiting = f.manager.obtain("dvm", "dom0");
        await().until(() -> !f.queue("dvm").contains(older));
        answer(older).complete(null);
        assertEquals(older, waiting.join().name());
    }
}
