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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cgroup v2 logic on a fake cgroupfs directory (this host's v2 mount has no memory controller): the
 * test plays the kernel by writing the files the kernel would.
 */
class CgroupV2DriverTest {

    @TempDir
    Path root;
    private CgroupV2Driver driver;

    @BeforeEach
    void setUp() throws IOException {
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Files.writeString(root.resolve("cgroup.subtree_control"), "cpu\n");
        driver = new CgroupV2Driver(root, "inst");
    }

    @Test
    void createEnablesTheMemoryControllerAndSetsCeilingAndTarget() throws IOException {
        driver.create("q1", new CgroupLimits(256L << 20, 64L << 20, 100, 0));
        assertEquals("+pids", Files.readString(root.resolve("cgroup.subtree_control")),
                "cpu was on; memory, then pids enabled, one write each");
        assertEquals("100", Files.readString(root.resolve("qrexec.inst/q1/pids.max")));
        assertTrue(driver.limitsPids());
        assertEquals(Long.toString(256L << 20), Files.readString(root.resolve("qrexec.inst/q1/memory.max")));
        assertEquals(Long.toString(64L << 20), Files.readString(root.resolve("qrexec.inst/q1/memory.high")));
        assertEquals(List.of(root.resolve("qrexec.inst/q1/cgroup.procs")), driver.procsFiles("q1"));
        assertTrue(driver.exists("q1"));
        assertEquals(List.of("q1"), driver.qubes());
    }

    @Test
    void cpuBandwidthIsTheQubesVcpus() throws IOException {
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 2));
        assertEquals("200000 100000", Files.readString(root.resolve("qrexec.inst/q1/cpu.max")));
        driver.create("q2", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        assertEquals("max 100000", Files.readString(root.resolve("qrexec.inst/q2/cpu.max")));
    }

    @Test
    void alreadyEnabledMemoryControllerIsNotWrittenAgain() throws IOException {
        Files.writeString(root.resolve("cgroup.subtree_control"), "cpu memory pids\n");
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        assertEquals("cpu memory pids\n", Files.readString(root.resolve("cgroup.subtree_control")));
        assertEquals("max", Files.readString(root.resolve("qrexec.inst/q1/pids.max")), "0 means no limit");
    }

    @Test
    void freezeIsSettledOnlyWhenEventsSaySo() throws IOException {
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        Path group = root.resolve("qrexec.inst/q1");
        Files.writeString(group.resolve("cgroup.events"), "populated 1\nfrozen 0\n");
        driver.freeze("q1");
        assertEquals("1", Files.readString(group.resolve("cgroup.freeze")));
        assertTrue(driver.isFreezeRequested("q1"));
        assertFalse(driver.isFrozen("q1"), "asked, not yet settled");
        Files.writeString(group.resolve("cgroup.events"), "populated 1\nfrozen 1\n");
        assertTrue(driver.isFrozen("q1"));
        driver.thaw("q1");
        assertEquals("0", Files.readString(group.resolve("cgroup.freeze")));
        assertFalse(driver.isFreezeRequested("q1"));
    }

    @Test
    void readsPidsUsageAndOomKills() throws IOException {
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        Path group = root.resolve("qrexec.inst/q1");
        Files.writeString(group.resolve("cgroup.procs"), "12\n345\n");
        Files.writeString(group.resolve("memory.current"), "4096\n");
        Files.writeString(group.resolve("memory.events"), "low 0\nhigh 3\nmax 1\noom 1\noom_kill 2\n");
        assertEquals(Set.of(12L, 345L), driver.pids("q1"));
        assertEquals(4096, driver.memoryUsage("q1"));
        assertEquals(2, driver.oomKills("q1"));
        driver.setMemoryTarget("q1", 2048);
        assertEquals("2048", Files.readString(group.resolve("memory.high")));
    }

    @Test
    void garbageInAControlFileIsAnErrorNamingTheFile() throws IOException {
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        Files.writeString(root.resolve("qrexec.inst/q1/memory.current"), "lots\n");
        IOException error = assertThrows(IOException.class, () -> driver.memoryUsage("q1"));
        assertTrue(error.getMessage().contains("memory.current"), error::getMessage);
    }

    @Test
    void killUsesCgroupKillOnlyWhenTheKernelHasIt() throws IOException {
        driver.create("q1", new CgroupLimits(1 << 20, 1 << 20, 0, 0));
        assertFalse(driver.killAll("q1"), "no cgroup.kill before 5.14: the caller signals each task");
        Files.writeString(root.resolve("qrexec.inst/q1/cgroup.kill"), "");
        assertTrue(driver.killAll("q1"));
        assertEquals("1", Files.readString(root.resolve("qrexec.inst/q1/cgroup.kill")));
    }

    @Test
    void missingGroupHasNoPids() throws IOException {
        assertEquals(Set.of(), driver.pids("never-created"));
        assertFalse(driver.exists("never-created"));
    }
}
