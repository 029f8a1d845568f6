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
    void groupInBothHierarchiesWithLimitAndSoftLimit() throws IOException {
        driver.create("q", 256L << 20, 64L << 20);
        assertEquals(Long.toString(256L << 20), Files.readString(root.resolve("memory/qrexec.inst/q/memory.limit_in_bytes")));
        assertEquals(Long.toString(64L << 20), Files.readString(root.resolve("memory/qrexec.inst/q/memory.soft_limit_in_bytes")));
        assertEquals(List.of(root.resolve("freezer/qrexec.inst/q/cgroup.procs"),
                root.resolve("memory/qrexec.inst/q/cgroup.procs")), driver.procsFiles("q"));
        assertEquals(List.of("q"), driver.qubes());
    }

    @Test
    void freezingIsNotFrozen() throws IOException {
        driver.create("q", 1 << 20, 1 << 20);
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
        driver.create("q", 1 << 20, 1 << 20);
        Files.writeString(root.resolve("freezer/qrexec.inst/q/cgroup.procs"), "1\n2\n");
        Files.writeString(root.resolve("memory/qrexec.inst/q/cgroup.procs"), "2\n3\n");
        Files.writeString(root.resolve("memory/qrexec.inst/q/memory.oom_control"),
                "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
        assertEquals(Set.of(1L, 2L, 3L), driver.pids("q"));
        assertEquals(4, driver.oomKills("q"));
        assertFalse(driver.killAll("q"), "v1 has no cgroup.kill");
    }
}
