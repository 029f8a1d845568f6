package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad hosts, bad inits and dying qubes: clear errors, DIED events with reasons, nothing left behind. */
class SandboxFailuresTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private SandboxHypervisor hypervisor;
    private final EventRecorder events = new EventRecorder();

    private SandboxHypervisor open(SandboxConfig.Builder config) throws IOException {
        SandboxFixture.makeTraversable(dir);
        hypervisor = SandboxFixture.open(config.build());
        hypervisor.subscribe(events);
        return hypervisor;
    }

    private SandboxConfig.Builder config() {
        return SandboxFixture.config(dir, SandboxFixture.uniqueInstance("fail"));
    }

    @AfterEach
    void close() {
        SandboxFixture.closeKillingAll(hypervisor);
    }

    @Test
    void missingBubblewrapSaysHowToInstallIt() {
        SandboxConfig config = config().bwrap(dir.resolve("no-such-bwrap")).build();
        HypervisorException.BackendUnavailable error =
                assertThrows(HypervisorException.BackendUnavailable.class, () -> SandboxHypervisor.open(config));
        assertEquals("bubblewrap not found: apt-get install bubblewrap", error.getMessage());
    }

    @Test
    void oneBackendPerInstance() throws Exception {
        SandboxConfig.Builder config = config();
        open(config);
        HypervisorException.BackendUnavailable error =
                assertThrows(HypervisorException.BackendUnavailable.class, () -> SandboxHypervisor.open(config.build()));
        assertTrue(error.getMessage().contains("is already open by another backend"), error::getMessage);
        hypervisor.close();
        SandboxHypervisor.open(config.build()).close(); // released at close
    }

    @Test
    void initExitIsADeathWithItsStatusAndCleansUp() throws Exception {
        open(config());
        QubeSpec spec = spec("exit3", 21, List.of("/bin/sh", "-c", "exit 3")).build();
        hypervisor.define(spec).get();
        hypervisor.start("exit3").get();
        events.awaitKinds("exit3", WAIT, Kind.STARTED, Kind.DIED);
        LifecycleEvent died = events.of("exit3").get(1);
        assertEquals("init exited with status 3", died.reason());
        assertEquals(QubeState.HALTED, hypervisor.state("exit3"));
        assertNoTrace(spec);
    }

    @Test
    void initThatCannotRunFailsTheStartWithBubblewrapsReason() throws Exception {
        open(config());
        QubeSpec spec = spec("noinit", 22, List.of("/no/such/init")).build();
        hypervisor.define(spec).get();
        ExecutionException error = assertThrows(ExecutionException.class, () -> hypervisor.start("noinit").get());
        assertInstanceOf(HypervisorException.OperationFailed.class, error.getCause());
        assertTrue(error.getCause().getMessage().contains("/no/such/init"), error.getCause()::getMessage);
        assertEquals(QubeState.HALTED, hypervisor.state("noinit"));
        assertNoTrace(spec);
    }

    @Test
    void shutdownKillsAQubeThatIgnoresTermAfterTheTimeout() throws Exception {
        open(config());
        QubeSpec spec = spec("stubborn", 23, List.of("/bin/sh", "-c",
                "trap '' TERM; touch /rw/deaf; while :; do sleep 1; done")).build();
        hypervisor.define(spec).get();
        hypervisor.start("stubborn").get();
        // the init runs before its shell reaches the trap: SIGTERM only once it ignores it
        await().atMost(WAIT).until(() -> Files.exists(spec.privateStorage().orElseThrow().resolve("deaf")));
        hypervisor.shutdown("stubborn", Duration.ofMillis(200)).get();
        events.awaitKinds("stubborn", WAIT, Kind.STARTED, Kind.HALTED);
        assertEquals("shutdown timed out after 200 ms: killed", events.of("stubborn").get(1).reason());
        assertNoTrace(spec);
    }

    @Test
    void aQubeOverItsMemoryCeilingDiesOfOutOfMemory() throws Exception {
        open(config());
        // tmpfs pages are charged to the qube and cannot be reclaimed without swap: the ceiling is hit
        QubeSpec spec = spec("hog", 28, List.of("/bin/sh", "-c", "exec cat /dev/zero > /tmp/fill"))
                .memoryMiB(16).maxMemoryMiB(32).volatileSizeMiB(256).build();
        hypervisor.define(spec).get();
        hypervisor.start("hog").get();
        events.awaitKinds("hog", WAIT, Kind.STARTED, Kind.DIED);
        assertTrue(events.of("hog").get(1).reason().startsWith("out of memory ("), events.of("hog").get(1)::reason);
        assertNoTrace(spec);
    }

    @Test
    void aForkBombIsCappedByThePidsLimit() throws Exception {
        open(config().pidsMax(12));
        org.junit.jupiter.api.Assumptions.assumeTrue(hypervisor.cgroupDriverLimitsPids(), "no pids controller here");
        QubeSpec spec = spec("bomb", 29, List.of("/bin/sh", "-c",
                "i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done; echo spawned all; wait")).build();
        hypervisor.define(spec).get();
        hypervisor.start("bomb").get();
        events.awaitKinds("bomb", WAIT, Kind.STARTED, Kind.DIED); // dash gives up when fork fails
        String output = Files.readString(hypervisor.config().stateDir().resolve("bomb/console.log"));
        assertTrue(output.contains("Cannot fork") && !output.contains("spawned all"), () -> "not capped: " + output);
        assertEquals("init exited with status 2", events.of("bomb").get(1).reason());
        assertNoTrace(spec);
    }

    @Test
    void runningQubeCarriesItsLimitsInItsCgroups() throws Exception {
        open(config().pidsMax(500));
        org.junit.jupiter.api.Assumptions.assumeTrue("v1".equals(hypervisor.cgroupVersion()), "reads v1 files");
        QubeSpec spec = spec("limits", 30, SandboxFixture.IDLE_INIT).memoryMiB(100).maxMemoryMiB(300).vcpus(2).build();
        hypervisor.define(spec).get();
        hypervisor.start("limits").get();
        hypervisor.setMemoryTarget("limits", 150L << 20).get();
        Path cgroups = Path.of("/sys/fs/cgroup");
        String group = "qrexec." + hypervisor.config().instance() + "/limits";
        assertEquals(Long.toString(300L << 20), Files.readString(cgroups.resolve("memory").resolve(group)
                .resolve("memory.limit_in_bytes")).strip());
        assertEquals(Long.toString(150L << 20), Files.readString(cgroups.resolve("memory").resolve(group)
                .resolve("memory.soft_limit_in_bytes")).strip());
        if (hypervisor.cgroupDriverLimitsPids()) {
            assertEquals("500", Files.readString(cgroups.resolve("pids").resolve(group).resolve("pids.max")).strip());
        }
        if (Files.isDirectory(cgroups.resolve("cpu").resolve(group))) {
            assertEquals("200000", Files.readString(cgroups.resolve("cpu").resolve(group).resolve("cpu.cfs_quota_us")).strip());
        }
        assertEquals(150L << 20, hypervisor.memory("limits").targetBytes());
        hypervisor.kill("limits").get();
        assertNoTrace(spec);
    }

    @Test
    void aChattyQubesConsoleIsCut() throws Exception {
        open(config().consoleMaxBytes(64 * 1024));
        String line = "0123456789".repeat(10);
        QubeSpec spec = spec("chatty", 31, List.of("/bin/sh", "-c",
                "i=0; while [ $i -lt 4000 ]; do echo " + line + "; i=$((i+1)); done; echo finished; "
                        + String.join(" ", SandboxFixture.IDLE_INIT.get(2)))).build();
        hypervisor.define(spec).get();
        hypervisor.start("chatty").get();
        Path console = hypervisor.config().stateDir().resolve("chatty/console.log");
        Path kept = console.resolveSibling("console.log.1");
        // 400 KB written; cut every 2 s at 64 KiB: the last quarter (with the final line) stays in .1
        await().atMost(WAIT).until(() -> Files.exists(kept) && Files.size(console) < 64 * 1024
                && (Files.readString(kept) + Files.readString(console)).contains("finished"));
        assertTrue(Files.size(kept) <= 16 * 1024, "kept the last quarter");
        hypervisor.kill("chatty").get();
    }

    @Test
    void notEnoughHostMemoryRefusesTheStart() throws Exception {
        open(config().hostMemoryBytes(100L << 20));
        hypervisor.define(spec("big1", 24, SandboxFixture.IDLE_INIT).build()).get();
        hypervisor.define(spec("big2", 25, SandboxFixture.IDLE_INIT).build()).get();
        hypervisor.start("big1").get();
        assertEquals(36L << 20, hypervisor.hostMemory().freeBytes());
        ExecutionException error = assertThrows(ExecutionException.class, () -> hypervisor.start("big2").get());
        assertInstanceOf(HypervisorException.InsufficientMemory.class, error.getCause());
        assertEquals("not enough memory: 64 MiB asked, 36 free", error.getCause().getMessage());
        assertEquals(QubeState.HALTED, hypervisor.state("big2"));
        hypervisor.kill("big1").get();
        assertEquals(100L << 20, hypervisor.hostMemory().freeBytes());
    }

    @Test
    void storageTheQubeCannotReachIsRefusedWithTheDirectoryToFix() throws Exception {
        open(config());
        Path closed = Files.createDirectories(dir.resolve("closed"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        QubeSpec spec = spec("unreach", 26, SandboxFixture.IDLE_INIT).privateStorage(closed.resolve("private")).build();
        hypervisor.define(spec).get();
        ExecutionException error = assertThrows(ExecutionException.class, () -> hypervisor.start("unreach").get());
        assertTrue(error.getCause().getMessage().contains("chmod o+x " + closed), error.getCause()::getMessage);
        assertEquals(QubeState.HALTED, hypervisor.state("unreach"));
    }

    @Test
    void memoryTargetOutOfRangeIsRejected() throws Exception {
        open(config());
        hypervisor.define(spec("target", 27, SandboxFixture.IDLE_INIT).build()).get();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> hypervisor.setMemoryTarget("target", 257L << 20));
        assertTrue(error.getMessage().contains("must be in (0, 268435456]"), error::getMessage);
    }

    private QubeSpec.Builder spec(String name, int domainId, List<String> init) throws IOException {
        return SandboxFixture.spec(dir, SandboxFixture.templateRoot(), name, domainId).init(init);
    }

    /** No process, cgroup or socket of the qube remains. */
    private void assertNoTrace(QubeSpec spec) throws IOException {
        assertFalse(Files.exists(Path.of("/sys/fs/cgroup/freezer", "qrexec." + hypervisor.config().instance(), spec.name())),
                "freezer cgroup removed");
        for (String controller : List.of("memory", "pids", "cpu")) {
            assertFalse(Files.exists(Path.of("/sys/fs/cgroup", controller, "qrexec." + hypervisor.config().instance(),
                    spec.name())), controller + " cgroup removed");
        }
        // a sandbox's inner reaper is re-parented when its launcher dies; its new parent reaps it soon after
        await().atMost(WAIT).until(() -> SandboxFixture.processesOfUid(hypervisor.hostUid(spec)), List::isEmpty);
        assertFalse(Files.exists(hypervisor.config().stateDir().resolve(spec.name()).resolve("run.json")));
    }
}
