package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.preload.PreloadStage;
import dev.qrexec.dispvm.preload.StartupWaits;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Section 5 item 28: a GUI preload completes only once {@code qubes.WaitForSession} answered through
 * the readiness SPI; a non-GUI preload waits for the running system only, and a request issued before
 * it completed still gets it.
 */
class GuiReadinessTest {

    @TempDir
    Path dir;
    Fixture f;
    /** qube → services it was asked for; qube + service → the pending answer the test controls. */
    final Map<String, List<String>> asked = new ConcurrentHashMap<>();
    final Map<String, CompletableFuture<Void>> answers = new ConcurrentHashMap<>();

    private CompletableFuture<Void> answer(String qube, String service) {
        return answers.computeIfAbsent(qube + "/" + service, k -> new CompletableFuture<>());
    }

    private void start() {
        // The running system answers at once; the session only when the test says so.
        QubeReadiness recording = (qube, services, timeout) -> {
            asked.put(qube, List.copyOf(services));
            return CompletableFuture.allOf(services.stream().map(s -> s.equals(QubeReadiness.WAIT_FOR_SESSION)
                    ? answer(qube, s) : CompletableFuture.<Void>completedFuture(null)).toArray(CompletableFuture[]::new));
        };
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(), b -> b.readiness(recording))
                .withTemplates();
    }

    @AfterEach
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void item28_aGuiPreloadIsCompleteOnlyAfterWaitForSessionAnswered() {
        start();
        f.admin().setFeature("fedora", Features.GUI, "1");
        f.admin().setFeature("fedora", Features.LATE_GUI_DAEMON, "1");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().until(() -> f.queue("dvm").size() == 1 && asked.containsKey(f.queue("dvm").get(0)));
        String p = f.queue("dvm").get(0);
        assertEquals(List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM, QubeReadiness.WAIT_FOR_SESSION), asked.get(p));
        // Its system runs, but without a session it is still being preloaded, not ready.
        assertEquals(PreloadStage.WAITING_OPERATIONAL, f.manager.engine().handle(p).orElseThrow().stage());
        assertEquals(0, f.count(DispvmEvent.Kind.PRELOAD_READY, p));
        answer(p, QubeReadiness.WAIT_FOR_SESSION).complete(null);
        f.awaitReady("dvm", 1);
        assertEquals(p, f.queue("dvm").get(0));
    }

    @Test
    void item28_aNonGuiPreloadWaitsForTheRunningSystemOnlyAndARequestBeforeCompletionSucceeds() {
        start();
        // gui is not set: no session wait even though the agent could start one late.
        f.admin().setFeature("fedora", Features.LATE_GUI_DAEMON, "1");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        await().until(() -> f.queue("dvm").size() == 1 && asked.containsKey(f.queue("dvm").get(0)));
        String p = f.queue("dvm").get(0);
        assertEquals(List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM), asked.get(p));
        f.awaitReady("dvm", 1);

        // A GUI template whose session never comes: a request before completion still gets the preload.
        f.admin().setFeature("fedora", Features.GUI, "1");
        // Features are not part of the outdated check (as in Qubes): the next preload is the one that waits.
        assertEquals(p, f.manager.obtain("dvm", "work").join().name());
        f.manager.release(p).join();
        await().until(() -> f.queue("dvm").size() == 1 && !f.queue("dvm").get(0).equals(p)
                && asked.containsKey(f.queue("dvm").get(0)));
        String q = f.queue("dvm").get(0);
        assertTrue(asked.get(q).contains(QubeReadiness.WAIT_FOR_SESSION));
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertEquals(q, d.name());
        assertTrue(d.preloaded());
        assertTrue(answer(q, QubeReadiness.WAIT_FOR_SESSION).isCancelled() || f.manager.engine().handle(q).isEmpty(),
                "the wait was given up or the handle is gone");
    }

    @Test
    void theSessionRuleNeedsAGuiVmTheGuiFeatureAndALateGuiAgent() {
        start();
        var s0 = f.manager.snapshot();
        assertEquals(List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM), StartupWaits.servicesFor(s0, s0.get("dvm")));
        f.admin().setFeature("fedora", Features.GUI, "1");
        var s1 = f.manager.snapshot();
        assertEquals(1, StartupWaits.servicesFor(s1, s1.get("dvm")).size(), "the agent does not start sessions late");
        f.admin().setFeature("dvm", Features.LATE_GUI_DAEMON, "1");
        var s2 = f.manager.snapshot();
        assertEquals(2, StartupWaits.servicesFor(s2, s2.get("dvm")).size());
        f.admin().setProperty("dvm", "guivm", "");
        var s3 = f.manager.snapshot();
        assertEquals(1, StartupWaits.servicesFor(s3, s3.get("dvm")).size(), "no GUI VM, no session");
        f.admin().setFeature("dvm", Features.GUI, "");
        f.admin().resetProperty("dvm", "guivm");
        var s4 = f.manager.snapshot();
        assertEquals(1, StartupWaits.servicesFor(s4, s4.get("dvm")).size(), "the dvm template's empty gui wins");
    }
}
