package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * cgroup v1: the {@code freezer} and {@code memory} hierarchies, each mounted at
 * {@code <root>/<controller>}. A qube's groups are {@code <root>/freezer/qrexec.<instance>/<qube>}
 * and {@code <root>/memory/qrexec.<instance>/<qube>}.
 *
 * <p>Memory: {@code memory.limit_in_bytes} is the spec's maximum (the OOM ceiling),
 * {@code memory.soft_limit_in_bytes} the target (reclaimed towards under host pressure).
 */
public final class CgroupV1Driver implements CgroupDriver {

    private final Path freezerInstance;
    private final Path memoryInstance;

    public CgroupV1Driver(Path cgroupRoot, String instance) {
        Objects.requireNonNull(cgroupRoot, "cgroupRoot");
        String group = CgroupDriver.instanceGroupName(instance);
        this.freezerInstance = cgroupRoot.resolve("freezer").resolve(group);
        this.memoryInstance = cgroupRoot.resolve("memory").resolve(group);
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
        Files.createDirectories(freezerInstance);
        Files.createDirectories(memoryInstance);
    }

    @Override
    public void create(String qube, long maxBytes, long targetBytes) throws IOException {
        Files.createDirectories(freezer(qube));
        Files.createDirectories(memory(qube));
        CgroupFiles.write(memory(qube).resolve("memory.limit_in_bytes"), Long.toString(maxBytes));
        CgroupFiles.write(memory(qube).resolve("memory.soft_limit_in_bytes"), Long.toString(targetBytes));
    }

    @Override
    public boolean exists(String qube) {
        return Files.isDirectory(freezer(qube)) || Files.isDirectory(memory(qube));
    }

    @Override
    public List<Path> procsFiles(String qube) {
        return List.of(freezer(qube).resolve("cgroup.procs"), memory(qube).resolve("cgroup.procs"));
    }

    @Override
    public Set<Long> pids(String qube) throws IOException {
        Set<Long> pids = new java.util.LinkedHashSet<>(CgroupFiles.readPids(freezer(qube).resolve("cgroup.procs")));
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
        CgroupFiles.rmdir(freezer(qube));
        CgroupFiles.rmdir(memory(qube));
    }

    @Override
    public List<String> qubes() throws IOException {
        Set<String> names = new java.util.TreeSet<>(CgroupFiles.subdirectories(freezerInstance));
        names.addAll(CgroupFiles.subdirectories(memoryInstance));
        return List.copyOf(names);
    }

    @Override
    public void removeInstanceGroupIfEmpty() {
        for (Path group : List.of(freezerInstance, memoryInstance)) {
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
