package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.sandbox.cgroup.CgroupDriver;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** How a qube's processes ended: the reason of a death, and the reaping of its launcher. */
final class QubeExits {

    private static final System.Logger LOG = System.getLogger(QubeExits.class.getName());

    private QubeExits() {
    }

    /** Why an init ended on its own: the OOM killer (counted by the cgroup) or its exit status. */
    static String deathReason(CgroupDriver cgroups, SandboxQube qube, Integer status) {
        long oomKills = 0;
        try {
            oomKills = cgroups.exists(qube.name()) ? cgroups.oomKills(qube.name()) : 0;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read OOM count of " + qube.name(), e);
        }
        if (oomKills > 0) {
            return "out of memory (" + oomKills + " task(s) killed at " + qube.spec.maxMemoryMiB() + " MiB)";
        }
        if (status == null || status == InstanceSweeper.UNKNOWN_STATUS) {
            return "init exited (status unknown: adopted after a daemon restart)";
        }
        return "init exited with status " + status;
    }

    /** The launcher's pid if it is our child (not for a qube adopted after a restart), else 0. */
    static long launcherPidIfChild(SandboxQube qube) {
        SandboxQube.Running running = qube.running;
        if (running == null) {
            return 0;
        }
        return ProcessHandle.of(running.launcherPid()).flatMap(ProcessHandle::parent)
                .filter(parent -> parent.pid() == ProcessHandle.current().pid())
                .map(parent -> running.launcherPid()).orElse(0L);
    }

    /** Waits until the killed launcher is reaped, so HALTED means no process of the qube is left. */
    static void awaitReaped(SandboxQube.Running running, Duration timeout) throws IOException {
        if (running == null) {
            return;
        }
        try {
            running.exit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("launcher pid " + running.launcherPid() + " not reaped after kill", e);
        } catch (ExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, "exit of launcher " + running.launcherPid(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for launcher " + running.launcherPid(), e);
        }
    }
}
