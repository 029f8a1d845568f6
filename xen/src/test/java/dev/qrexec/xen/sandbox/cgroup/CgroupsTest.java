package dev.qrexec.xen.sandbox.cgroup;

import dev.qrexec.xen.HypervisorException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which driver a cgroupfs layout gets, and what a host without one is told. */
class CgroupsTest {

    @TempDir
    Path root;

    private void v1(String controller) throws IOException {
        Files.createDirectories(root.resolve(controller));
        Files.writeString(root.resolve(controller).resolve("cgroup.procs"), "");
    }

    @Test
    void v1HierarchiesGiveTheV1Driver() throws IOException {
        v1("freezer");
        v1("memory");
        CgroupDriver driver = Cgroups.detect(root, "inst");
        assertInstanceOf(CgroupV1Driver.class, driver);
        assertTrue(Files.isDirectory(root.resolve("freezer/qrexec.inst")), "instance group created as a probe");
        assertTrue(Files.isDirectory(root.resolve("memory/qrexec.inst")));
    }

    @Test
    void hybridMountUsesTheUnifiedHierarchyWhenV1LacksAController() throws IOException {
        v1("freezer");
        Files.createDirectories(root.resolve("unified"));
        Files.writeString(root.resolve("unified/cgroup.controllers"), "cpu memory pids\n");
        assertInstanceOf(CgroupV2Driver.class, Cgroups.choose(root, "inst"));
    }

    @Test
    void pureV2Mount() throws IOException {
        Files.writeString(root.resolve("cgroup.controllers"), "cpu io memory pids\n");
        assertEquals("v2", Cgroups.choose(root, "inst").version());
    }

    @Test
    void missingMemoryControllerSaysWhatToMount() throws IOException {
        v1("freezer");
        HypervisorException.BackendUnavailable error =
                assertThrows(HypervisorException.BackendUnavailable.class, () -> Cgroups.choose(root, "inst"));
        assertTrue(error.getMessage().contains("the 'memory' one is missing: mount -t cgroup -o memory cgroup "
                + root.resolve("memory")), error::getMessage);
    }

    @Test
    void readOnlyControllerIsReportedAsUnavailable() throws IOException {
        v1("freezer");
        v1("memory");
        Files.writeString(root.resolve("freezer/qrexec.inst"), "a file where the group should go");
        HypervisorException.BackendUnavailable error =
                assertThrows(HypervisorException.BackendUnavailable.class, () -> Cgroups.detect(root, "inst"));
        assertTrue(error.getMessage().contains("must be mounted read-write"), error::getMessage);
    }
}
