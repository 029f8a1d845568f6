package dev.qrexec.xen.sandbox;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kills a daemon (a child JVM running {@link SandboxCrashChild}) with SIGKILL at a chosen point of a
 * start, then opens a new backend with the same instance name: a qube caught mid-start is swept away
 * entirely; a qube that had started is adopted. Another instance's qube is never touched.
 */
class SandboxCrashRecoveryTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private final List<SandboxHypervisor> opened = new ArrayList<>();
    private Process child;

    @AfterEach
    void tearDown() {
        if (child != null) {
            child.destroyForcibly();
        }
        for (SandboxHypervisor hypervisor : opened) {
            for (String qube : hypervisor.list()) {
                if (hypervisor.state(qube) != QubeState.HALTED) {
                    hypervisor.kill(qube).orTimeout(30, TimeUnit.SECONDS).join();
                }
            }
            hypervisor.close();
        }
    }

    @Test
    void daemonKilledMidStartLeavesNothingAfterTheNextStartUp() throws Exception {
        SandboxFixture.makeTraversable(dir);
        SandboxFixture.assumeSandboxes(dir);
        String instance = SandboxFixture.uniqueInstance("crash");
        SandboxHypervisor bystander = otherInstanceWithARunningQube();
        QubeSpec spec = crashSpec();

        runChildUntil(instance, "launched");
        Path socket = spec.channelDir().orElseThrow().resolve("vchan.31.0.512.sock");
        await().atMost(WAIT).until(() -> Files.exists(socket));
        child.destroyForcibly().waitFor();
        int uid = SandboxConfig.builder(instance).build().uidBase() + spec.domainId();
        assertFalse(SandboxFixture.processesOfUid(uid).isEmpty(), "the qube outlived its daemon");
        assertTrue(Files.exists(cgroup("freezer", instance)));

        SandboxHypervisor restarted = open(instance);

        assertEquals(List.of("crash"), restarted.list(), "the definition survives");
        assertEquals(QubeState.HALTED, restarted.state("crash"));
        assertFalse(Files.exists(cgroup("freezer", instance)), "freezer cgroup swept");
        assertFalse(Files.exists(cgroup("memory", instance)), "memory cgroup swept");
        await().atMost(WAIT).until(() -> SandboxFixture.processesOfUid(uid), List::isEmpty);
        assertFalse(Files.exists(socket), "the qube's socket swept");
        assertFalse(Files.exists(spec.privateStorage().orElseThrow()), "the disposable's private copy discarded");
        assertFalse(Files.exists(restarted.config().stateDir().resolve("crash/run.json")));
        assertEquals(List.of(), hostMountsUnder(dir), "no mount on the host side");

        assertEquals(QubeState.RUNNING, bystander.state("bystander"), "another instance is never touched");
        assertTrue(Files.exists(Path.of("/sys/fs/cgroup/freezer", "qrexec." + bystander.config().instance(), "bystander")));
    }

    @Test
    void daemonKilledAfterStartIsAdoptedByTheNextStartUp() throws Exception {
        SandboxFixture.makeTraversable(dir);
        SandboxFixture.assumeSandboxes(dir);
        String instance = SandboxFixture.uniqueInstance("adopt");
        runChildUntil(instance, "started");
        child.destroyForcibly().waitFor();

        SandboxHypervisor restarted = open(instance);
        EventRecorder events = new EventRecorder();
        restarted.subscribe(events);
        assertEquals(QubeState.RUNNING, restarted.state("crash"), "adopted, still running");
        restarted.pause("crash").get();
        restarted.unpause("crash").get();
        assertTrue(restarted.memory("crash").currentBytes() > 0, "memory read from the adopted cgroup");
        ProcessHandle.of(initPid(restarted)).orElseThrow().destroyForcibly();
        events.awaitKinds("crash", WAIT, Kind.PAUSED, Kind.UNPAUSED, Kind.DIED);
        assertEquals("init exited (status unknown: adopted after a daemon restart)", events.of("crash").get(2).reason());
        assertEquals(QubeState.HALTED, restarted.state("crash"));
        assertFalse(Files.exists(cgroup("freezer", instance)));
        assertFalse(Files.exists(crashSpec().privateStorage().orElseThrow()));
    }

    private long initPid(SandboxHypervisor hypervisor) throws IOException {
        String json = Files.readString(hypervisor.config().stateDir().resolve("crash/run.json"));
        return new ObjectMapper().readTree(json).path("initPid").asLong();
    }

    private QubeSpec crashSpec() throws IOException {
        Files.createDirectories(dir.resolve("source/home/user"));
        Files.writeString(dir.resolve("source/data"), "template data");
        return SandboxCrashChild.spec(SandboxFixture.templateRoot(), dir, SandboxFixture.domainId(51));
    }

    private void runChildUntil(String instance, String step) throws Exception {
        crashSpec();
        String classpath = Stream.of(SandboxCrashChild.class, SandboxHypervisor.class, ObjectMapper.class,
                        JsonFactory.class, JsonAutoDetect.class)
                .map(c -> c.getProtectionDomain().getCodeSource().getLocation().getPath())
                .distinct().collect(Collectors.joining(":"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        child = new ProcessBuilder(java, "-cp", classpath, SandboxCrashChild.class.getName(),
                dir.resolve("state").toString(), instance, SandboxFixture.templateRoot().toString(), dir.toString(), step,
                Integer.toString(SandboxFixture.domainId(51)))
                .redirectErrorStream(true).start();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                lines.lines().forEach(output::add);
            } catch (IOException e) {
                output.add("read error: " + e);
            }
        }, "crash-child-output");
        reader.setDaemon(true);
        reader.start();
        await().atMost(WAIT).until(() -> output.contains("AT " + step) || !child.isAlive());
        assertTrue(output.contains("AT " + step), () -> "child did not reach " + step + ": " + output);
    }

    private SandboxHypervisor open(String instance) {
        SandboxHypervisor hypervisor = SandboxFixture.open(SandboxFixture.config(dir, instance).build());
        opened.add(hypervisor);
        return hypervisor;
    }

    private SandboxHypervisor otherInstanceWithARunningQube() throws Exception {
        Path other = Files.createDirectories(dir.resolve("other"));
        SandboxHypervisor bystander = open(SandboxFixture.uniqueInstance("bystander"));
        bystander.define(SandboxFixture.spec(other, SandboxFixture.templateRoot(), "bystander", 52).build()).get();
        bystander.start("bystander").get();
        return bystander;
    }

    private static Path cgroup(String controller, String instance) {
        return Path.of("/sys/fs/cgroup", controller, "qrexec." + instance, "crash");
    }

    private static List<String> hostMountsUnder(Path dir) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> line.contains(dir.toString())).toList();
    }
}
