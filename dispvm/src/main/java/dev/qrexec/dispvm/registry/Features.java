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
    /**
     * On a preload: the netvm it was attached to when a network change was deferred because it was
     * paused (spec 2.10); the use step applies the change and removes it.
     */
    public static final String DEFERRED_NETVM_ORIGINAL = "deferred-netvm-original";
    /** Store schema 1 only: digest the outdated check used before volumes had revisions (migrated away). */
    public static final String LEGACY_PRELOAD_ORIGIN = "preload-dispvm-origin";
    /** Store schema 1 only: storage revision of a template, now each volume's revision (migrated away). */
    public static final String LEGACY_STORAGE_REVISION = "preload-dispvm-revision";
    /** On a qube or its template: a GUI session is wanted (spec 2.3). */
    public static final String GUI = "gui";
    /** The agent can start the session before a GUI daemon connects (spec 2.3). */
    public static final String LATE_GUI_DAEMON = "supported-feature.late-gui-daemon";
    public static final String RPC_WAIT_UPLINK = "supported-rpc.qubes.WaitForNetworkUplink";
    /** Hides a qube from user tools. */
    public static final String INTERNAL = "internal";
    public static final String QREXEC = "qrexec";
    public static final String RPC_WAIT_RUNNING = "supported-rpc.qubes.WaitForRunningSystem";
    public static final String RPC_WAIT_SESSION = "supported-rpc.qubes.WaitForSession";

    /** Features the admin API may neither set nor remove: the engine owns them. */
    public static final Set<String> ENGINE_OWNED = Set.of(PRELOAD_DISPVM, PRELOAD_IN_PROGRESS, PRELOAD_COMPLETED,
            DEFERRED_NETVM_ORIGINAL);

    private Features() {
    }
}
