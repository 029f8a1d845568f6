package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Section 5 item 41 and spec 2.10: a netvm change or restart while a preload is paused is deferred,
 * applied by the use step (which then waits for the uplink); a netvm can be stopped while only
 * preloads use it, not while an ordinary qube does.
 */
class DeferredNetvmTest {

    @TempDir
    Path dir;
    Fixture f;
    /** Uplink answers the test controls, by qube. */
    final Map<String, CompletableFuture<Void>> uplink = new ConcurrentHashMap<>();

    private void start(Duration uplinkWait) {
        QubeReadiness readiness = (qube, services, timeout) -> services.contains(QubeReadiness.WAIT_FOR_NETWORK_UPLINK)
                ? uplink.computeIfAbsent(qube, q -> new CompletableFuture<>())
                : CompletableFuture.completedFuture(null);
        f = new Fixture(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(),
                b -> b.readiness(readiness).timings(PreloadTimings.immediate().withUplinkWait(uplinkWait)))
                .withTemplates();
        f.admin().create("sys-net", QubeClass.APP_VM, Map.of("template", "fedora"));
        f.admin().start("sys-net").join();
        f.admin().setProperty("dvm", "netvm", "sys-net");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
    }

    @AfterEach
    void tearDown() {
        if (f != null) {
            f.close();
        }
    }

    private Optional<String> deferred(String qube) {
        return f.manager.snapshot().get(qube).feature(Features.DEFERRED_NETVM_ORIGINAL);
    }

    @Test
    void item41_aNetvmRestartIsDeferredForAPausedPreloadAndAppliedByTheUseStepAfterTheUplink() {
        start(Duration.ofSeconds(30));
        f.admin().setFeature("fedora", Features.RPC_WAIT_UPLINK, "1");
        String p = f.queue("dvm").get(0);
        // Only a preload uses sys-net: it may be stopped.
        f.admin().kill("sys-net").join();
        f.admin().start("sys-net").join();
        await().until(() -> deferred(p).isPresent());
        assertEquals(Optional.of("sys-net"), deferred(p));
        assertEquals(0, f.count(DispvmEvent.Kind.NETWORK_ATTACHED, p), "not applied while it is a preload");
        assertThrows(RegistryException.NotAllowed.class, () -> f.admin().removeFeature(p,
                Features.DEFERRED_NETVM_ORIGINAL), "engine-owned");

        CompletableFuture<Disposable> got = f.manager.obtain("dvm", "work");
        await().until(() -> uplink.containsKey(p));
        assertFalse(got.isDone(), "handed out only once the uplink answered");
        assertEquals(1, f.count(DispvmEvent.Kind.NETWORK_ATTACHED, p));
        uplink.get(p).complete(null);
        Disposable d = got.join();
        assertEquals(p, d.name());
        assertEquals(Optional.empty(), deferred(p));

        // Now p is an ordinary client of sys-net: stopping sys-net is refused with the reason.
        RegistryException.InUse e = assertThrows(RegistryException.InUse.class, () -> f.admin().kill("sys-net"));
        assertTrue(e.getMessage().contains(p), e.getMessage());
        assertThrows(RegistryException.InUse.class, () -> f.admin().shutdown("sys-net", Duration.ofSeconds(1)));
    }

    @Test
    void item41_aNetvmPropertyChangeOnAPausedPreloadIsDeferredAndAnUplinkThatNeverAnswersOnlyDelays() {
        start(Duration.ofMillis(300));
        f.admin().setFeature("fedora", Features.RPC_WAIT_UPLINK, "1");
        f.admin().create("sys-vpn", QubeClass.APP_VM, Map.of("template", "fedora"));
        String p = f.queue("dvm").get(0);
        f.admin().setProperty(p, "netvm", "sys-vpn");
        f.admin().setProperty(p, "netvm", "sys-net");
        // A preload whose netvm differs from its template's would be outdated; back on sys-net it is not.
        assertEquals(Optional.of("sys-net"), deferred(p), "the first deferral keeps the real attachment");
        assertEquals(0, f.count(DispvmEvent.Kind.NETWORK_ATTACHED, p));
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertEquals(p, d.name());
        assertTrue(uplink.containsKey(p));
        assertTrue(uplink.get(p).isCompletedExceptionally(), "nobody answered: the wait was given up");
        assertTrue(d.took().toMillis() >= 300, "the caller waited the uplink time out, took " + d.took());
        assertEquals(Optional.empty(), deferred(p));
    }

    @Test
    void anOrdinaryPausedQubeAppliesItsDeferredChangeWhenUnpausedAndARunningOneAtOnce() {
        start(Duration.ofSeconds(1));
        f.admin().setProperty("work", "netvm", "sys-net");
        f.admin().start("work").join();
        f.admin().pause("work").join();
        // A paused ordinary client still counts as a user of its netvm.
        assertThrows(RegistryException.InUse.class, () -> f.admin().kill("sys-net"));
        f.admin().create("sys-vpn", QubeClass.APP_VM, Map.of("template", "fedora"));
        f.admin().setProperty("work", "netvm", "sys-vpn");
        assertEquals(Optional.of("sys-net"), deferred("work"));
        assertEquals(0, f.count(DispvmEvent.Kind.NETWORK_ATTACHED, "work"));
        f.admin().unpause("work").join();
        await().until(() -> deferred("work").isEmpty() && f.count(DispvmEvent.Kind.NETWORK_ATTACHED, "work") == 1);
        f.admin().setProperty("work", "netvm", "");
        await().until(() -> f.count(DispvmEvent.Kind.NETWORK_ATTACHED, "work") == 2);
        f.admin().kill("sys-net").join();
    }
}
