package dev.qrexec.dispvm.sandbox;

import dev.qrexec.dispvm.Disposable;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sandbox.SandboxHypervisor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main paths on the real {@code sandbox} backend: preload, obtain, release; and a daemon (a child
 * JVM) SIGKILLed mid-preload, after which a new daemon keeps the ready preloads, discards the rest and
 * leaks nothing. Skipped where bubblewrap or cgroups are missing (fails under CI=true).
 */
class SandboxPreloadTest {

    /** Outside JUnit's temp dirs: those are 0700 (the qubes' uids must traverse) and it frowns on symlinks. */
    private Path dir;

    @org.junit.jupiter.api.BeforeEach
    void makeDir() throws java.io.IOException {
        dir = Files.createTempDirectory("dispvm-sandbox-");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    }

    @org.junit.jupiter.api.AfterEach
    void deleteDir() throws java.io.IOException {
        SandboxSetup.deleteTree(dir);
    }

    private static String instance(String hint) {
        return "dv" + ProcessHandle.current().pid() + hint;
    }

    private static SandboxHypervisor openOrSkip(Path work, String instance) {
        try {
            return SandboxSetup.open(work, instance);
        } catch (HypervisorException.BackendUnavailable e) {
            if ("true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("qrexec.require-sandbox")) {
                throw e;
            }
            Assumptions.abort("sandbox backend unavailable: " + e.getMessage());
            throw e;
        }
    }

    private static void setUpTemplates(DispvmManager m) {
        var a = m.admin();
        a.setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0");
        a.create("tpl", QubeClass.TEMPLATE_VM, Map.of());
        for (String f : new String[] {Features.QREXEC, Features.RPC_WAIT_RUNNING, Features.RPC_WAIT_SESSION}) {
            a.setFeature("tpl", f, "1");
        }
        a.create("dvm", QubeClass.APP_VM, Map.of("template", "tpl", "template_for_dispvms", "True",
                "memory", "64", "maxmem", "256"));
        a.create("work", QubeClass.APP_VM, Map.of("template", "tpl", "default_dispvm", "dvm"));
    }

    private static Set<String> disposables(DispvmManager m) {
        Set<String> out = new TreeSet<>();
        m.snapshot().qubes().values().stream().filter(q -> q.klass() == QubeClass.DISP_VM).forEach(q -> out.add(q.name()));
        return out;
    }

    @Test
    void preloadObtainAndReleaseOnRealSandboxes() throws Exception {
        Path work = dir.resolve("w");
        SandboxSetup.prepare(work);
        try (SandboxHypervisor hv = openOrSkip(work, instance("a"));
             DispvmManager m = SandboxSetup.manager(hv, work, QubeReadiness.immediate())) {
            setUpTemplates(m);
            m.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
            await().atMost(Duration.ofSeconds(60)).until(() -> m.queueStatus("dvm").ready().size() == 2);
            for (String n : m.queueStatus("dvm").ready()) {
                assertEquals(QubeState.PAUSED, hv.state(n));
                assertTrue(Files.exists(work.resolve("private-" + n + "/seed")), "private data copied from dvm");
            }
            Disposable d = m.obtain("dvm", "work").join();
            assertTrue(d.preloaded());
            assertEquals(QubeState.RUNNING, hv.state(d.name()));
            m.release(d.name()).join();
            assertFalse(hv.list().contains(d.name()));
            assertFalse(Files.exists(work.resolve("private-" + d.name())), "nothing the disposable wrote survives");
            Disposable cold = m.obtain("dvm", "work").join();
            m.release(cold.name()).join();
            await().atMost(Duration.ofSeconds(60)).until(() -> m.queueStatus("dvm").ready().size() == 2);
            m.admin().removeFeature("dvm", Features.PRELOAD_DISPVM_MAX);
            await().atMost(Duration.ofSeconds(30)).until(() -> disposables(m).isEmpty() && hv.list().isEmpty());
        }
    }

    /** Section 5 item 6 on a real backend: the snapshot source follows a halted disposable's new template. */
    @Test
    void aNamedDisposableMovedToAnotherTemplateStartsFromThatTemplatesPrivate() throws Exception {
        Path work = dir.resolve("w");
        SandboxSetup.prepare(work);
        Files.createDirectories(work.resolve("private-dvm2"));
        Files.writeString(work.resolve("private-dvm2/seed2"), "from the second dvm template\n");
        try (SandboxHypervisor hv = openOrSkip(work, instance("t"));
             DispvmManager m = SandboxSetup.manager(hv, work, QubeReadiness.immediate())) {
            setUpTemplates(m);
            var a = m.admin();
            a.create("dvm2", QubeClass.APP_VM, Map.of("template", "tpl", "template_for_dispvms", "True",
                    "memory", "64", "maxmem", "256"));
            a.createDisposable("dvm", java.util.Optional.of("nd"));
            a.setProperty("nd", "template", "dvm2");
            a.start("nd").get(60, TimeUnit.SECONDS);
            assertEquals(QubeState.RUNNING, hv.state("nd"));
            assertTrue(Files.exists(work.resolve("private-nd/seed2")), "copied from dvm2's private");
            assertFalse(Files.exists(work.resolve("private-nd/seed")), "not from dvm's");
            a.kill("nd").get(30, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(30)).until(() -> !hv.list().contains("nd"));
            a.remove("nd").get(30, TimeUnit.SECONDS);
            assertTrue(hv.list().isEmpty(), "left in the backend: " + hv.list());
        }
    }

    @Test
    void aDaemonKilledMidPreloadRestartsWithItsReadyPreloadsAndNoLeftovers() throws Exception {
        Path work = dir.resolve("w");
        SandboxSetup.prepare(work);
        String inst = instance("k");
        // Probe availability in this JVM first, so a host without sandboxes skips instead of failing.
        openOrSkip(work, inst).close();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.util.logging.config.file=" + System.getProperty("java.util.logging.config.file", ""),
                "-cp", System.getProperty("java.class.path"), SandboxDaemonChild.class.getName(),
                work.toString(), inst).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> ready;
        String inflight;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            assertTrue(line != null && line.startsWith("READY "), "child said " + line);
            ready = List.of(line.substring(6).split(" "));
            line = r.readLine();
            assertTrue(line != null && line.startsWith("INFLIGHT "), "child said " + line);
            inflight = line.substring(9);
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(2, ready.size());

        try (SandboxHypervisor hv = SandboxSetup.open(work, inst);
             DispvmManager m = SandboxSetup.manager(hv, work, QubeReadiness.immediate())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> !hv.list().contains(inflight)
                    && m.snapshot().find(inflight).isEmpty());
            await().atMost(Duration.ofSeconds(60)).until(() -> m.queueStatus("dvm").ready().size() == 3);
            assertTrue(m.queueStatus("dvm").queue().containsAll(ready), "ready preloads kept: " + m.queueStatus("dvm"));
            for (String n : ready) {
                assertEquals(QubeState.PAUSED, hv.state(n));
            }
            assertEquals(disposables(m), new TreeSet<>(hv.list()), "the backend holds exactly the registry's qubes");
            assertFalse(Files.exists(work.resolve("private-" + inflight)), "the half-done preload's storage is gone");
            Disposable d = m.obtain("dvm", "dvm").join();
            assertTrue(ready.contains(d.name()), "the oldest ready preload is handed out first");
            m.release(d.name()).join();
            m.admin().removeFeature("dvm", Features.PRELOAD_DISPVM_MAX);
            await().atMost(Duration.ofSeconds(30)).until(() -> disposables(m).isEmpty() && hv.list().isEmpty());
            assertEquals(new HashSet<>(), new HashSet<>(hv.list()));
        }
    }
}
