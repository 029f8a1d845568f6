package dev.qrexec.xen.sandbox.cgroup;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The v2 freeze and kill paths against the kernel, on this host's cgroup2 mount
 * ({@code /sys/fs/cgroup/unified}, which has no memory controller, so the backend itself runs on
 * v1 here). The group is made by hand, since {@code create} needs the memory controller. Skipped
 * where no writable cgroup2 mount exists.
 */
class CgroupV2LiveTest {

    private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");
    private final String instance = "t" + ProcessHandle.current().pid() + "-v2live";
    private Process sleeper;

    @AfterEach
    void tearDown() throws IOException {
        if (sleeper != null) {
            sleeper.destroyForcibly();
        }
        Path group = UNIFIED.resolve(CgroupDriver.instanceGroupName(instance));
        Files.deleteIfExists(group.resolve("q"));
        Files.deleteIfExists(group);
    }

    @Test
    void freezeThawAndKillARealProcess() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(UNIFIED.resolve("cgroup.procs"))
                && Files.isWritable(UNIFIED.resolve("cgroup.procs")), "no writable cgroup2 mount at " + UNIFIED);
        CgroupV2Driver driver = new CgroupV2Driver(UNIFIED, instance);
        driver.ensureInstanceGroup();
        Files.createDirectories(driver.group("q"));
        sleeper = new ProcessBuilder("sleep", "600").start();
        Files.writeString(driver.procsFiles("q").get(0), Long.toString(sleeper.pid()));
        assertTrue(driver.pids("q").contains(sleeper.pid()));

        CgroupActions actions = new CgroupActions(driver);
        actions.freeze("q", Duration.ofSeconds(10));
        assertTrue(driver.isFrozen("q") && driver.isFreezeRequested("q"));
        driver.thaw("q");
        assertTrue(CgroupActions.await(() -> !driver.isFrozen("q"), Duration.ofSeconds(10)), "thawed");

        actions.killAndRemove("q", Duration.ofSeconds(10), 0);
        assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "killed through the cgroup");
        assertFalse(driver.exists("q"), "group removed");
        driver.removeInstanceGroupIfEmpty();
        assertFalse(Files.exists(UNIFIED.resolve(CgroupDriver.instanceGroupName(instance))));
    }
}
