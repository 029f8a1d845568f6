package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * cgroup v2 (unified hierarchy) mounted at {@code root}: a qube's group is
 * {@code <root>/qrexec.<instance>/<qube>}.
 *
 * <p>The memory controller is enabled for the instance group's children through
 * {@code cgroup.subtree_control} of the root and of the instance group. Memory: {@code memory.max} is
 * the spec's maximum (OOM ceiling), {@code memory.high} the target: above it the kernel throttles
 * and reclaims, the nearest thing to a balloon. Freeze with {@code cgroup.freeze}, settled when
 * {@code cgroup.events} says {@code frozen 1}. Kill with {@code cgroup.kill} when the kernel has it
 * (5.14+).
 */
public final class CgroupV2Driver implements CgroupDriver {

    private final Path root;
    private final Path instanceGroup;

    public CgroupV2Driver(Path v2Root, String instance) {
        this.root = Objects.requireNonNull(v2Root, "v2Root");
        this.instanceGroup = v2Root.resolve(CgroupDriver.instanceGroupName(instance));
    }

    @Override
    public String version() {
        return "v2";
    }

    Path group(String qube) {
        return instanceGroup.resolve(qube);
    }

    @Override
    public void ensureInstanceGroup() throws IOException {
        Files.createDirectories(instanceGroup);
    }

    @Override
    public void create(String qube, CgroupLimits limits) throws IOException {
        List<String> controllers = new ArrayList<>(List.of("memory"));
        if (limitsPids()) {
            controllers.add("pids");
        }
        if (limitsCpu()) {
            controllers.add("cpu");
        }
        enableControllers(root, controllers);
        Files.createDirectories(instanceGroup);
        enableControllers(instanceGroup, controllers);
        Path group = group(qube);
        Files.createDirectories(group);
        CgroupFiles.write(group.resolve("memory.max"), Long.toString(limits.memoryMaxBytes()));
        CgroupFiles.write(group.resolve("memory.high"), Long.toString(limits.memoryTargetBytes()));
        if (controllers.contains("pids")) {
            CgroupFiles.write(group.resolve("pids.max"), limits.pidsMaxValue());
        }
        if (controllers.contains("cpu")) {
            long quota = limits.cpuQuotaMicros();
            CgroupFiles.write(group.resolve("cpu.max"), (quota > 0 ? Long.toString(quota) : "max") + " "
                    + CgroupLimits.CPU_PERIOD_US);
        }
    }

    @Override
    public boolean limitsPids() {
        return available("pids");
    }

    @Override
    public boolean limitsCpu() {
        return available("cpu");
    }

    private boolean available(String controller) {
        try {
            return List.of(CgroupFiles.read(root.resolve("cgroup.controllers")).split("\\s+")).contains(controller);
        } catch (IOException e) {
            return false;
        }
    }

    /** Enables each controller for the children of {@code parent}, one write each (as the kernel wants). */
    private static void enableControllers(Path parent, List<String> controllers) throws IOException {
        Path subtree = parent.resolve("cgroup.subtree_control");
        List<String> enabled = List.of((Files.exists(subtree) ? CgroupFiles.read(subtree) : "").split("\\s+"));
        for (String controller : controllers) {
            if (!enabled.contains(controller)) {
                CgroupFiles.write(subtree, "+" + controller);
            }
        }
    }

    @Override
    public boolean exists(String qube) {
        return Files.isDirectory(group(qube));
    }

    @Override
    public List<Path> procsFiles(String qube) {
        return List.of(group(qube).resolve("cgroup.procs"));
    }

    @Override
    public Set<Long> pids(String qube) throws IOException {
        return CgroupFiles.readPids(group(qube).resolve("cgroup.procs"));
    }

    @Override
    public void freeze(String qube) throws IOException {
        CgroupFiles.write(group(qube).resolve("cgroup.freeze"), "1");
    }

    @Override
    public void thaw(String qube) throws IOException {
        CgroupFiles.write(group(qube).resolve("cgroup.freeze"), "0");
    }

    @Override
    public boolean isFrozen(String qube) throws IOException {
        return CgroupFiles.readKeyed(group(qube).resolve("cgroup.events"), "frozen") == 1;
    }

    @Override
    public boolean isFreezeRequested(String qube) throws IOException {
        return CgroupFiles.readLong(group(qube).resolve("cgroup.freeze")) == 1;
    }

    @Override
    public void setMemoryTarget(String qube, long targetBytes) throws IOException {
        CgroupFiles.write(group(qube).resolve("memory.high"), Long.toString(targetBytes));
    }

    @Override
    public long memoryUsage(String qube) throws IOException {
        return CgroupFiles.readLong(group(qube).resolve("memory.current"));
    }

    @Override
    public long oomKills(String qube) throws IOException {
        Path events = group(qube).resolve("memory.events");
        return Files.exists(events) ? CgroupFiles.readKeyed(events, "oom_kill") : 0;
    }

    @Override
    public boolean killAll(String qube) throws IOException {
        Path kill = group(qube).resolve("cgroup.kill");
        if (!Files.exists(kill)) {
            return false;
        }
        CgroupFiles.write(kill, "1");
        return true;
    }

    @Override
    public void remove(String qube) throws IOException {
        CgroupFiles.rmdir(group(qube));
    }

    @Override
    public List<String> qubes() throws IOException {
        return CgroupFiles.subdirectories(instanceGroup);
    }

    @Override
    public void removeInstanceGroupIfEmpty() {
        try {
            if (CgroupFiles.subdirectories(instanceGroup).isEmpty()) {
                CgroupFiles.rmdir(instanceGroup);
            }
        } catch (IOException e) {
            // a qube group appeared meanwhile, or the group is already gone: both are fine
        }
    }

    @Override
    public String toString() {
        return "cgroup v2 (" + instanceGroup + ")";
    }
}
