package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sandbox.cgroup.CgroupDriver;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * The start-up pass over what a previous daemon of the same instance left: it looks only at the
 * instance's own state directory and its own {@code qrexec.<instance>} cgroups, never at other
 * instances'.
 *
 * <ul>
 *   <li>A qube whose {@code run.json} says RUNNING and whose recorded init still lives in its cgroup
 *       is <b>adopted</b>: it stays RUNNING (or PAUSED, if its cgroup is frozen) and the new backend
 *       watches its init. Paused preloaded disposables thus survive a daemon restart.</li>
 *   <li>A qube caught mid-start (run.json STARTING), or whose init is gone, is cleaned up: processes
 *       killed, cgroups removed, its sockets deleted, a disposable's private copy discarded. It is
 *       HALTED afterwards and stays defined.</li>
 *   <li>A cgroup of this instance with no qube definition is killed and removed.</li>
 * </ul>
 */
final class InstanceSweeper {

    private static final System.Logger LOG = System.getLogger(InstanceSweeper.class.getName());

    /** Exit status of an adopted init, which is not our child: the kernel does not tell us. */
    static final int UNKNOWN_STATUS = -1;

    private final QubeStateStore store;
    private final CgroupDriver cgroups;
    private final QubeJanitor janitor;
    private final ToIntFunction<QubeSpec> uidOf;

    InstanceSweeper(QubeStateStore store, CgroupDriver cgroups, QubeJanitor janitor, ToIntFunction<QubeSpec> uidOf) {
        this.store = store;
        this.cgroups = cgroups;
        this.janitor = janitor;
        this.uidOf = uidOf;
    }

    /** Returns every qube still defined, adopted ones with their {@link SandboxQube#running} set. */
    List<SandboxQube> sweep() throws IOException {
        List<SandboxQube> defined = new ArrayList<>();
        Set<String> known = new HashSet<>();
        for (String name : store.qubes()) {
            known.add(name);
            QubeSpec spec;
            try {
                spec = store.readSpec(name);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "qube state in " + store.dir(name)
                        + " is unreadable; killing its processes and ignoring it", e);
                janitor.killProcesses(name);
                continue;
            }
            SandboxQube qube = new SandboxQube(spec, uidOf.applyAsInt(spec));
            Optional<QubeStateStore.RunRecord> run = readRun(name);
            if (run.isPresent() && adoptable(name, run.get())) {
                adopt(qube, run.get());
            } else if (run.isPresent() || cgroups.exists(name)) {
                LOG.log(System.Logger.Level.INFO, "sweeping {0} left {1} by a previous daemon", name,
                        run.map(r -> r.phase() == QubeStateStore.Phase.STARTING ? "mid-start" : "dead")
                                .orElse("without a run record"));
                janitor.cleanUp(spec, qube.hostUid, 0);
            }
            defined.add(qube);
        }
        for (String orphan : cgroups.qubes()) {
            if (!known.contains(orphan)) {
                LOG.log(System.Logger.Level.INFO, "sweeping cgroup {0} that no qube definition owns", orphan);
                janitor.killProcesses(orphan);
            }
        }
        return defined;
    }

    private Optional<QubeStateStore.RunRecord> readRun(String name) {
        try {
            return store.readRun(name);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable run.json of " + name + ": treating it as mid-start", e);
            return Optional.of(new QubeStateStore.RunRecord(QubeStateStore.Phase.STARTING, 0, 0));
        }
    }

    private boolean adoptable(String name, QubeStateStore.RunRecord run) throws IOException {
        return run.phase() == QubeStateStore.Phase.RUNNING && run.initPid() > 0 && cgroups.exists(name)
                && cgroups.pids(name).contains(run.initPid()) && ProcessHandle.of(run.initPid()).isPresent();
    }

    private void adopt(SandboxQube qube, QubeStateStore.RunRecord run) throws IOException {
        ProcessHandle init = ProcessHandle.of(run.initPid()).orElseThrow();
        qube.running = new SandboxQube.Running(run.launcherPid(), init,
                init.onExit().thenApply(exited -> UNKNOWN_STATUS));
        qube.state = cgroups.isFreezeRequested(qube.name()) ? QubeState.PAUSED : QubeState.RUNNING;
        LOG.log(System.Logger.Level.INFO, "adopted {0} ({1}, init pid {2})", qube.name(),
                qube.state.name().toLowerCase(Locale.ROOT), Long.toString(run.initPid()));
    }
}
