package dev.qrexec.dispvm.registry;

import java.util.Set;

/** Names of the features the registry and the preload engine read or write. */
public final class Features {
    /** Desired preload queue length: on a dvm template (local) or on dom0 (global, for the system default). */
    public static final String PRELOAD_DISPVM_MAX = "preload-dispvm-max";
    /** The preload queue: space-separated names, oldest first. Written by the engine only. */
    public static final String PRELOAD_DISPVM = "preload-dispvm";
    /** dom0: MiB of host memory preloading must leave free. */
    public static final String PRELOAD_DISPVM_THRESHOLD = "preload-dispvm-threshold";
    /** Seconds to wait before refilling after a use (template, then dom0, default 3). */
    public static final String PRELOAD_DISPVM_DELAY = "preload-dispvm-delay";
    /** On a disposable: true while preloading or between claim and use. */
    public static final String PRELOAD_IN_PROGRESS = "preload-dispvm-in-progress";
    /** On a disposable: set once startup and pause (or its skip) finished. */
    public static final String PRELOAD_COMPLETED = "preload-dispvm-completed";
    /** On a disposable: what its dvm template looked like when it was preloaded (outdated check). */
    public static final String PRELOAD_ORIGIN = "preload-dispvm-origin";
    /** Bumped when a template's storage may have changed (it halted after running): preloads from before are outdated. */
    public static final String STORAGE_REVISION = "preload-dispvm-revision";
    /** Hides a qube from user tools. */
    public static final String INTERNAL = "internal";
    public static final String QREXEC = "qrexec";
    public static final String RPC_WAIT_RUNNING = "supported-rpc.qubes.WaitForRunningSystem";
    public static final String RPC_WAIT_SESSION = "supported-rpc.qubes.WaitForSession";

    /** Features the admin API may neither set nor remove: the engine owns them. */
    public static final Set<String> ENGINE_OWNED = Set.of(PRELOAD_DISPVM, PRELOAD_IN_PROGRESS, PRELOAD_COMPLETED,
            PRELOAD_ORIGIN, STORAGE_REVISION, "deferred-netvm-original");

    private Features() {
    }
}
