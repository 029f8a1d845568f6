package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Builder validation with precise messages, and the on-disk spec round trip. */
class SandboxConfigTest {

    @TempDir
    Path dir;

    @Test
    void defaults() {
        SandboxConfig config = SandboxConfig.builder("prod").build();
        assertEquals(Path.of("/run/qrexec-sandbox/prod"), config.stateDir());
        assertEquals(200_000, config.uidBase());
        assertEquals(Duration.ofSeconds(10), config.startTimeout());
    }

    @Test
    void rejectsBadValuesSayingWhy() {
        assertEquals("invalid instance name 'Prod/x': 1 to 40 characters, lower-case letters, digits, '_' or '-',"
                        + " not starting with '_' or '-'",
                assertThrows(IllegalArgumentException.class, () -> SandboxConfig.builder("Prod/x").build()).getMessage());
        assertEquals("uidBase must be in [1000, 2147483632] so qubes never run as a system user, was 0",
                assertThrows(IllegalArgumentException.class, () -> SandboxConfig.builder("a").uidBase(0).build())
                        .getMessage());
        assertEquals("startTimeout must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
                () -> SandboxConfig.builder("a").startTimeout(Duration.ZERO).build()).getMessage());
        assertEquals("workerThreads must be in [1, 64], was 0", assertThrows(IllegalArgumentException.class,
                () -> SandboxConfig.builder("a").workerThreads(0).build()).getMessage());
    }

    @Test
    void specAndRunRecordSurviveTheDisk() throws IOException {
        QubeStateStore store = new QubeStateStore(dir);
        QubeSpec spec = QubeSpec.builder("disp12", 12).memoryMiB(300).maxMemoryMiB(900).vcpus(3)
                .templateRoot(dir.resolve("t")).privateStorage(dir.resolve("p")).privateSource(dir.resolve("s"))
                .discardOnStop(true).channelDir(dir.resolve("c")).volatileSizeMiB(77)
                .init(List.of("/usr/bin/agent", "--x")).environment(Map.of("A", "b")).build();
        store.writeSpec(spec);
        assertEquals(spec, store.readSpec("disp12"));
        store.writeRun("disp12", new QubeStateStore.RunRecord(QubeStateStore.Phase.RUNNING, 10, 11));
        assertEquals(new QubeStateStore.RunRecord(QubeStateStore.Phase.RUNNING, 10, 11),
                store.readRun("disp12").orElseThrow());
        assertEquals(List.of("disp12"), store.qubes());
        store.deleteRun("disp12");
        assertEquals(java.util.Optional.empty(), store.readRun("disp12"));
    }

    @Test
    void configStringOfTheProviderMapsToTheSandboxConfig() {
        SandboxConfig config = SandboxHypervisorProvider.toSandboxConfig(dev.qrexec.xen.HypervisorConfig.parse(
                "sandbox:instance=dom0,state-dir=/var/lib/q,host-memory-mib=2048,uid-base=300000,start-timeout=3s"));
        assertEquals("dom0", config.instance());
        assertEquals(Path.of("/var/lib/q/dom0"), config.stateDir());
        assertEquals(2048L << 20, config.hostMemoryBytes());
        assertEquals(300_000, config.uidBase());
        assertEquals(Duration.ofSeconds(3), config.startTimeout());
        assertEquals(Duration.ofSeconds(5), config.killTimeout(), "default kept");
        assertEquals(List.of("sandbox", "sim"), dev.qrexec.xen.Hypervisors.available().stream()
                .filter(n -> n.equals("sandbox") || n.equals("sim")).toList());
    }
}
