package dev.qrexec.dispvm;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Creation, naming and clean-up of disposables without preloading (spec 5, items 1-4, 40). */
class DisposablesTest {

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
    void coldDisposableIsNamedFromItsDispidInheritsAndAutoCleans() {
        f.admin().setProperty("dvm", "label", "green");
        Disposable d = f.manager.obtain("dvm", "work").join();
        assertFalse(d.preloaded());
        Qube q = f.manager.snapshot().get(d.name());
        String dispid = q.properties().get("dispid");
        assertEquals("disp" + dispid, d.name());
        assertEquals("dvm", q.properties().get("template"));
        assertEquals("green", f.admin().property(d.name(), "label"));
        assertEquals("True", f.admin().property(d.name(), "auto_cleanup"));
        assertEquals("dvm", f.admin().property(d.name(), "default_dispvm"), "a disposable's default is its template");
        assertTrue(q.tags().contains("created-by-work"));
        assertEquals("Running", f.admin().powerState(d.name()));
        f.manager.release(d.name()).join();
        f.awaitNoLeaks(Set.of());
        assertTrue(f.manager.snapshot().recentDispids().containsKey(Integer.parseInt(dispid)));
    }

    @Test
    void requestFromANonDispvmTemplateFailsAndCreatesNothing() {
        var before = f.manager.snapshot();
        CompletionException e = assertThrows(CompletionException.class, () -> f.manager.obtain("work", "work").join());
        assertInstanceOf(RegistryException.InvalidValue.class, e.getCause());
        assertEquals(before.qubes().keySet(), f.manager.snapshot().qubes().keySet());
        assertThrows(RegistryException.InvalidValue.class, () -> f.admin().createDisposable("work", Optional.empty()));
    }

    @Test
    void anUnknownCallerGetsNothing() {
        var before = f.manager.snapshot();
        CompletionException e = assertThrows(CompletionException.class, () -> f.manager.obtain("dvm", "nobody").join());
        assertInstanceOf(RegistryException.NoSuchQube.class, e.getCause());
        assertEquals(before.qubes().keySet(), f.manager.snapshot().qubes().keySet());
    }

    @Test
    void namedDisposableKeepsItsNameGetsADispidAndDoesNotAutoClean() {
        Qube q = f.admin().createDisposable("dvm", Optional.of("sys-net"));
        assertEquals("sys-net", q.name());
        assertTrue(q.properties().containsKey("dispid"));
        assertEquals("False", f.admin().property("sys-net", "auto_cleanup"));
        Qube unnamed = f.admin().createDisposable("dvm", Optional.empty());
        assertEquals("True", f.admin().property(unnamed.name(), "auto_cleanup"));
        f.admin().start("sys-net").join();
        f.admin().kill("sys-net").join();
        // Its storage goes (undefined in the backend), its definition stays.
        await().atMost(Duration.ofSeconds(5)).until(() -> !f.sim.list().contains("sys-net"));
        assertTrue(f.manager.snapshot().find("sys-net").isPresent());
    }

    @Test
    void defaultDispvmOfADisposableMustBeADispvmTemplate() {
        Qube q = f.admin().createDisposable("dvm", Optional.of("d1"));
        assertThrows(RegistryException.InvalidValue.class, () -> f.admin().setProperty(q.name(), "default_dispvm", "work"));
        f.admin().setProperty("work", "template_for_dispvms", "True");
        f.admin().setProperty(q.name(), "default_dispvm", "work");
        assertEquals("work", f.admin().property(q.name(), "default_dispvm"));
    }

    @Test
    void obtainDefaultUsesTheCallersDefaultDispvm() {
        Disposable d = f.manager.obtainDefault("work").join();
        assertEquals("dvm", d.template());
        CompletionException e = assertThrows(CompletionException.class, () -> f.manager.obtainDefault("fedora").join());
        assertInstanceOf(RegistryException.InvalidValue.class, e.getCause());
    }

    @Test
    void aDisposableThatPowersItselfOffDisappears() {
        Disposable d = f.manager.obtain("dvm", "work").join();
        f.sim.crash(d.name(), "poweroff");
        f.awaitNoLeaks(Set.of());
    }

    @Test
    void aColdStartThatFailsLeavesNothingAndReportsTheCause() {
        f.sim.faults().failStart(1);
        CompletionException e = assertThrows(CompletionException.class, () -> f.manager.obtain("dvm", "work").join());
        assertTrue(e.getCause().getMessage().contains("injected"), e.getCause().getMessage());
        f.awaitNoLeaks(Set.of());
    }

    @Test
    void aDisposableTooLargeForTheHostFailsOnceAndLeavesNothing() {
        f.admin().setProperty("dvm", "memory", "999999");
        CompletionException e = assertThrows(CompletionException.class, () -> f.manager.obtain("dvm", "work").join());
        assertInstanceOf(dev.qrexec.xen.HypervisorException.InsufficientMemory.class, e.getCause());
        f.awaitNoLeaks(Set.of());
        assertEquals(1, f.manager.snapshot().recentDispids().size(), "one attempt, one dispid");
    }

    @Test
    void engineOwnedFeaturesCannotBeSetByAdmin() {
        assertThrows(RegistryException.NotAllowed.class, () -> f.admin().setFeature("dvm", Features.PRELOAD_DISPVM, "x"));
        assertThrows(RegistryException.NotAllowed.class,
                () -> f.admin().removeFeature("dvm", Features.PRELOAD_IN_PROGRESS));
    }
}
