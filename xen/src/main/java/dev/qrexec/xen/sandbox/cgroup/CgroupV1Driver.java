package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * cgroup v1: the {@code freezer} and {@code memory} hierarchies (and {@code pids}, {@code cpu} when mounted),
 * each at {@code <root>/<controller>}. A qube's groups are
 * {@code <root>/<controller>/qrexec.<instance>/<qube>}.
 *
 * <p>Memory: {@code memory.limit_in_bytes} is the spec's maximum (the OOM ceiling),
 * {@code memory.soft_limit_in_bytes} the target (reclaimed towards under host pressure).
 */
public final class CgroupV1Driver implements CgroupDriver {

    private final Path freezerInstance;
    private final Path memoryInstance;
    /** The pids hierarchy's instance group, or null when no pids hierarchy is mounted. */
    private final Path pidsInstance;
    /** The cpu hierarchy's instance group, or null when no cpu hierarchy is mounted. */
    private final Path cpuInstance;

    public CgroupV1Driver(Path cgroupRoot, String instance) {
        Objects.requireNonNull(cgroupRoot, "cgroupRoot");
        String group = CgroupDriver.instanceGroupName(instance);
        this.freezerInstance = cgroupRoot.resolve("freezer").resolve(group);
        this.memoryInstance = cgroupRoot.resolve("memory").resolve(group);
        this.pidsInstance = optionalHierarchy(cgroupRoot.resolve("pids"), group);
        this.cpuInstance = optionalHierarchy(cgroupRoot.resolve("cpu"), group);
    }

    private static Path optionalHierarchy(Path hierarchy, String group) {
        return Files.isRegularFile(hierarchy.resolve("cgroup.procs")) ? hierarchy.resolve(group) : null;
    }

    /** Every hierarchy used: freezer, memory, and pids and cpu when mounted. */
    private List<Path> instanceGroups() {
        List<Path> groups = new ArrayList<>(List.of(freezerInstance, memoryInstance));
        if (pidsInstance != null) {
            groups.add(pidsInstance);
        }
        if (cpuInstance != null) {
            groups.add(cpuInstance);
        }
        return groups;
    }

    @Override
    public boolean limitsCpu() {
        return cpuInstance != null;
    }

    @Override
    public boolean limitsPids() {
        return pidsInstance != null;
    }

    @Override
    public String version() {
        return "v1";
    }

    Path freezer(String qube) {
        return freezerInstance.resolve(qube);
    }

    Path memory(String qube) {
        return memoryInstance.resolve(qube);
    }

    @Override
    public void ensureInstanceGroup() throws IOException {
        for (Path group : instanceGroups()) {
            Files.createDirectories(group);
        }
    }

    @Override
    public void create(String qube, CgroupLimits limits) throws IOException {
        for (Path group : instanceGroups()) {
            Files.createDirectories(group.resolve(qube));
        }
        CgroupFiles.write(memory(qube).resolve("memory.limit_in_bytes"), Long.toString(limits.memoryMaxBytes()));
        CgroupFiles.write(memory(qube).resolve("memory.soft_limit_in_bytes"), Long.toString(limits.memoryTargetBytes()));
        if (pidsInstance != null) {
            CgroupFiles.write(pidsInstance.resolve(qube).resolve("pids.max"), limits.pidsMaxValue());
        }
        if (cpuInstance != null) {
            Path cpu = cpuInstance.resolve(qube);
            CgroupFiles.write(cpu.resolve("cpu.cfs_period_us"), Long.toString(CgroupLimits.CPU_PERIOD_US));
            CgroupFiles.write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(limits.cpuQuotaMicros()));
        }
    }

    @Override
    public boolean exists(String qube) {
        return instanceGroups().stream().anyMatch(group -> Files.isDirectory(group.resolve(qube)));
    }

    @Override
    public List<Path> procsFiles(String qube) {
        return instanceGroups().stream().map(group -> group.resolve(qube).resolve("cgroup.procs")).toList();
    }

    @Override
    public Set<Long> pids(String qube) throws IOException {
        Set<Long> pids = new LinkedHashSet<>(CgroupFiles.readPids(freezer(qube).resolve("cgroup.procs")));
        pids.addAll(CgroupFiles.readPids(memory(qube).resolve("cgroup.procs")));
        return pids;
    }

    @Override
    public void freeze(String qube) throws IOException {
        CgroupFiles.write(freezer(qube).resolve("freezer.state"), "FROZEN");
    }

    @Override
    public void thaw(String qube) throws IOException {
        CgroupFiles.write(freezer(qube).resolve("freezer.state"), "THAWED");
    }

    @Override
    public boolean isFrozen(String qube) throws IOException {
        return CgroupFiles.read(freezer(qube).resolve("freezer.state")).equals("FROZEN");
    }

    @Override
    public boolean isFreezeRequested(String qube) throws IOException {
        return !CgroupFiles.read(freezer(qube).resolve("freezer.state")).equals("THAWED");
    }

    @Override
    public void setMemoryTarget(String qube, long targetBytes) throws IOException {
        CgroupFiles.write(memory(qube).resolve("memory.soft_limit_in_bytes"), Long.toString(targetBytes));
    }

    @Override
    public long memoryUsage(String qube) throws IOException {
        return CgroupFiles.readLong(memory(qube).resolve("memory.usage_in_bytes"));
    }

    @Override
    public long oomKills(String qube) throws IOException {
        Path control = memory(qube).resolve("memory.oom_control");
        return Files.exists(control) ? CgroupFiles.readKeyed(control, "oom_kill") : 0;
    }

    @Override
    public boolean killAll(String qube) {
        return false; // v1 has no cgroup.kill: the reaper signals each task of the frozen group
    }

    @Override
    public void remove(String qube) throws IOException {
        for (Path group : instanceGroups()) {
            CgroupFiles.rmdir(group.resolve(qube));
        }
    }

    @Override
    public List<String> qubes() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path group : instanceGroups()) {
            names.addAll(CgroupFiles.subdirectories(group));
        }
        return List.copyOf(names);
    }

    @Override
    public void removeInstanceGroupIfEmpty() {
        for (Path group : instanceGroups()) {
            try {
                if (CgroupFiles.subdirectories(group).isEmpty()) {
                    CgroupFiles.rmdir(group);
                }
            } catch (IOException e) {
                // still in use by a qube created meanwhile, or already gone: both are fine
            }
        }
    }

    @Override
    public String toString() {
        return "cgroup v1 (" + freezerInstance + ", " + memoryInstance + ")";
    }
}
