package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sandbox.cgroup.CgroupActions;

import java.io.IOException;
import java.time.Duration;

/**
 * Removes everything a stopped (or dead, or half-started) qube leaves on the host: its processes
 * and cgroups, the sockets it created in its channel directory, a disposable's private copy, and
 * its {@code run.json}. Mounts need no cleaning: the sandbox makes them only in its own mount
 * namespace, which dies with its last process. Idempotent, so the sweep and a stop can both run it.
 */
final class QubeJanitor {

    private static final System.Logger LOG = System.getLogger(QubeJanitor.class.getName());

    private final CgroupActions cgroups;
    private final QubeStateStore store;
    private final Duration killTimeout;

    QubeJanitor(CgroupActions cgroups, QubeStateStore store, Duration killTimeout) {
        this.cgroups = cgroups;
        this.store = store;
        this.killTimeout = killTimeout;
    }

    /** Kills the qube's processes and removes its cgroups. */
    void killProcesses(String qube) throws IOException {
        cgroups.killAndRemove(qube, killTimeout, 0);
    }

    /**
     * Everything: processes, cgroups, sockets, disposable storage, run record. {@code launcherPid}
     * (0 if none is ours) is killed last, so it reaps the sandbox before we reap it.
     */
    void cleanUp(QubeSpec spec, int hostUid, long launcherPid) throws IOException {
        cgroups.killAndRemove(spec.name(), killTimeout, launcherPid);
        int sockets = PrivateStorage.removeQubeSockets(spec, hostUid);
        if (sockets > 0) {
            LOG.log(System.Logger.Level.DEBUG, "removed {0} socket(s) of {1}", sockets, spec.name());
        }
        PrivateStorage.discardIfDisposable(spec);
        store.deleteRun(spec.name());
    }
}
