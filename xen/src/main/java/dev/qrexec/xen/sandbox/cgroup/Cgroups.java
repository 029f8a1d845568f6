package dev.qrexec.xen.sandbox.cgroup;

import dev.qrexec.xen.HypervisorException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds which cgroup version to use under a cgroupfs root and checks that it is usable. */
public final class Cgroups {

    private Cgroups() {
    }

    /**
     * Picks the driver: v1 when {@code freezer} and {@code memory} hierarchies are mounted under
     * {@code root}; otherwise v2 at {@code root} (pure unified mount) or at {@code root/unified}
     * (hybrid mount) when its memory controller is available. Creates the instance group as a
     * probe.
     *
     * @throws HypervisorException.BackendUnavailable saying what is missing and what to do
     */
    public static CgroupDriver detect(Path root, String instance) {
        CgroupDriver driver = choose(root, instance);
        try {
            driver.ensureInstanceGroup();
        } catch (IOException e) {
            throw new HypervisorException.BackendUnavailable("cannot create the instance cgroup in " + driver
                    + " (" + e + "): the controllers must be mounted read-write and the daemon must run as root"
                    + " (remount with: mount -o remount,rw <mount point>)", e);
        }
        return driver;
    }

    static CgroupDriver choose(Path root, String instance) {
        if (isV1Hierarchy(root.resolve("freezer")) && isV1Hierarchy(root.resolve("memory"))) {
            return new CgroupV1Driver(root, instance);
        }
        for (Path candidate : List.of(root, root.resolve("unified"))) {
            Path controllers = candidate.resolve("cgroup.controllers");
            if (Files.isRegularFile(controllers) && hasMemoryController(controllers)) {
                return new CgroupV2Driver(candidate, instance);
            }
        }
        String missing = isV1Hierarchy(root.resolve("freezer")) ? "memory" : "freezer";
        throw new HypervisorException.BackendUnavailable("no usable cgroup under " + root
                + ": need either cgroup v1 'freezer' and 'memory' hierarchies (the '" + missing
                + "' one is missing: mount -t cgroup -o " + missing + " cgroup " + root.resolve(missing)
                + ") or cgroup v2 with the memory controller available (cgroup.controllers lists 'memory')");
    }

    private static boolean isV1Hierarchy(Path dir) {
        return Files.isRegularFile(dir.resolve("cgroup.procs")) && !Files.exists(dir.resolve("cgroup.controllers"));
    }

    private static boolean hasMemoryController(Path controllers) {
        try {
            return List.of(CgroupFiles.read(controllers).split("\\s+")).contains("memory");
        } catch (IOException e) {
            return false;
        }
    }
}
