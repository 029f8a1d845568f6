package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The cgroups of one backend instance: one group per qube, below an instance group named
 * {@code qrexec.<instance>} (the marker the start-up sweep looks for).
 *
 * <p>Implementations only read and write cgroupfs files; they never wait. Waiting for a freeze to
 * settle or for a group to empty is the caller's business (see {@link CgroupReaper}). Thread-safe:
 * they hold no mutable state.
 */
public interface CgroupDriver {

    /** {@code v1} or {@code v2}. */
    String version();

    /** Instance group name, {@code qrexec.<instance>}. */
    static String instanceGroupName(String instance) {
        return "qrexec." + instance;
    }

    /**
     * Creates the instance group (a probe that the controllers are mounted and writable);
     * idempotent.
     */
    void ensureInstanceGroup() throws IOException;

    /**
     * Creates the qube's group in every controller used and sets its limits. The pids and CPU limits
     * are applied only where those controllers are available ({@link #limitsPids}, {@link #limitsCpu}).
     */
    void create(String qube, CgroupLimits limits) throws IOException;

    /** Whether the CPU limit of {@link #create} is enforced on this host. */
    boolean limitsCpu();

    /** Whether the pids limit of {@link #create} is enforced on this host. */
    boolean limitsPids();

    /** True when the qube's group exists (in the first controller). */
    boolean exists(String qube);

    /**
     * The files a process writes its own pid into to join the qube's group (one per v1 hierarchy,
     * one for v2). The launcher writes them before exec-ing the sandbox, so nothing of the qube
     * ever runs outside its group.
     */
    List<Path> procsFiles(String qube);

    /** Process ids in the qube's group (every hierarchy agrees; the freezer one is read). */
    Set<Long> pids(String qube) throws IOException;

    /** Asks the kernel to freeze the group; see {@link #isFrozen} for completion. */
    void freeze(String qube) throws IOException;

    void thaw(String qube) throws IOException;

    /** True once every task of the group is frozen (v1 FROZEN, v2 {@code frozen 1}). */
    boolean isFrozen(String qube) throws IOException;

    /** True when a freeze was asked and not thawed, even if it has not settled yet. */
    boolean isFreezeRequested(String qube) throws IOException;

    /**
     * Sets the memory target: a reclaim goal the kernel pushes the group towards, never an OOM
     * trigger (v1 soft limit, v2 {@code memory.high}). The hard ceiling stays at the spec's maximum.
     */
    void setMemoryTarget(String qube, long targetBytes) throws IOException;

    /** Memory charged to the group now, in bytes. */
    long memoryUsage(String qube) throws IOException;

    /** How many times the kernel's OOM killer killed a task of this group (0 when unknown). */
    long oomKills(String qube) throws IOException;

    /**
     * Kills every process of the group at once when the kernel supports it (v2 {@code cgroup.kill});
     * returns false when the caller must signal each process itself.
     */
    boolean killAll(String qube) throws IOException;

    /** Removes the qube's (empty) group from every controller; no error when already gone. */
    void remove(String qube) throws IOException;

    /** Names of qube groups under this instance's group (for the start-up sweep). */
    List<String> qubes() throws IOException;

    /** Removes the instance group if it holds no qube group any more. */
    void removeInstanceGroupIfEmpty();
}
