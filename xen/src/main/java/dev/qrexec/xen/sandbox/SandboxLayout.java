package dev.qrexec.xen.sandbox;

import java.util.Set;

/**
 * Where things appear inside a sandboxed qube. The qube's user is uid/gid {@value #GUEST_UID}
 * ({@code user}) inside its user namespace, mapped to the host uid {@code uidBase + domainId}.
 */
public final class SandboxLayout {

    /** uid and gid of {@code user} inside every qube. */
    public static final int GUEST_UID = 1000;
    /** The private storage, read-write. */
    public static final String PRIVATE_MOUNT = "/rw";
    /** {@code <private>/home/user}, read-write: the user's home. */
    public static final String HOME_MOUNT = "/home/user";
    /** The qube's channel directory (its vchan sockets), read-write; also {@code VCHAN_SOCKET_DIR}. */
    public static final String CHANNEL_MOUNT = "/run/vchan";
    /** Volatile tmpfs, {@code volatileSizeMiB} big. */
    public static final String VOLATILE_MOUNT = "/tmp";
    /** Small tmpfs for runtime files. */
    public static final String RUN_MOUNT = "/run";
    public static final long RUN_SIZE_BYTES = 4L << 20;

    /**
     * Top-level names of a template root the backend never binds: it mounts its own file systems
     * there (or, for {@code sys} and {@code root}, nothing at all).
     */
    public static final Set<String> RESERVED_TOP_LEVEL = Set.of("proc", "dev", "sys", "tmp", "run", "rw", "home",
            "root", "lost+found");

    private SandboxLayout() {
    }
}
