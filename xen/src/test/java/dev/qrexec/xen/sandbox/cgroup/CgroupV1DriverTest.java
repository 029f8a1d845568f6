package dev.qrexec.xen.sandbox.cgroup;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cgroup v1 file logic on a fake directory (the real hierarchies are exercised by the sandbox tests). */
class CgroupV1DriverTest {

    @TempDir
    Path root;
    private CgroupV1Driver driver;

    @BeforeEach
    void setUp() {
        driver = new CgroupV1Driver(root, "inst");
    }

    @Test
    void pidsHierarchyIsUsedWhenMounted() throws IOException {
        Files.createDirectories(root.resolve("pids"));
        Files.writeString(root.resolve("pids/cgroup.procs"), "");
        CgroupV1Driver withPids = new CgroupV1Driver(root, "inst");
        assertTrue(withPids.limitsPids());
        assertFalse(driver.limitsPids(), "not mounted when the first driver was made");
        withPids.create("q", new CgroupLimits(1 << 20, 1 << 20, 64, 0));
        assertEquals("64", Files.readString(root.resolve("pids/qrexec.inst/q/pids.max")));
        assertEquals(3, withPids.procsFiles("q").size());
    }

    @Test
    void cpuHierarchyGetsTheQuotaOfTheVcpus() throws IOException {
        Files.createDirectories(root.resolve("cpu"));
        Files.writeString(root.resolve("cpu/cgroup.procs"), "");
        CgroupV1Driver withCpu = new CgroupV1Driver(root, "inst");
        assertTrue(withCpu.limitsCpu());
        withCpu.create("q", new CgroupLimits(1 << 20, 1 << 20, 0, 3));
        assertEquals("300000", Files.readString(root.resolve("cpu/qrexec.inst/q/cpu.cfs_quota_us")));
        assertEquals("100000", Files.readString(root.resolve("cpu/qrexec.inst/q/cpu.cfs_period_us")));
    }

    @Test
    void groupInBothHierarchiesWithLimitAndSoftLimit() throws IOException {
        driver.create("q", new CgroupLimits(256L << 20, 64L << 20, 0, 0));
        assertEquals(Long.toString(256L << 20), Files.readString(root.resolve("memory/qrexec.inst/q/memory.limit_in_bytes")));
        assertEquals(Long.toString(64L << 20), Files.readString(root.resolve("memory/qrexec.inst/q/memory.soft_limit_in_bytes")));
        assertEquals(List.of(root.resolve("freezer/qrexec.inst/q/cgroup.procs"),
                root.resolve("memory/qrexec.inst/q/cgroup.procs")), driver.procsFiles("q"));
        assertEquals(List.of("q"), driver.qubes());
    }

    @Test
    void freezingIsNotFrozen() throws IOException {
        driver.create("q", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        driver.freeze("q");
        Path state = root.resolve("freezer/qrexec.inst/q/freezer.state");
        assertEquals("FROZEN", Files.readString(state));
        Files.writeString(state, "FREEZING\n"); // what the kernel shows while tasks are still running
        assertTrue(driver.isFreezeRequested("q"));
        assertFalse(driver.isFrozen("q"));
        driver.thaw("q");
        assertFalse(driver.isFreezeRequested("q"));
    }

    @Test
    void pidsAreTheUnionOfBothHierarchiesAndOomCountComesFromOomControl() throws IOException {
        driver.create("q", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        Files.writeString(root.resolve("freezer/qrexec.inst/q/cgroup.procs"), "1\n2\n");
        Files.writeString(root.resolve("memory/qrexec.inst/q/cgroup.procs"), "2\n3\n");
        Files.writeString(root.resolve("memory/qrexec.inst/q/memory.oom_control"),
                "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
        assertEquals(Set.of(1L, 2L, 3L), driver.pids("q"));
        assertEquals(4, driver.oomKills("q"));
        assertFalse(driver.killAll("q"), "v1 has no cgroup.kill");
    }
}
