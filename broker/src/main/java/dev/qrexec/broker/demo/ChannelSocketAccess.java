package dev.qrexec.broker.demo;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Lets a sandboxed qube connect to the sockets the broker listens on in the qube's channel
 * directory ({@code vchan.0.<domid>.<port>.sock}, where the target's agent connects its data
 * channel, and the listener of {@code qrexec-client}).
 *
 * <p>Why: the broker runs as root and binds those sockets with the process umask; the qube runs as
 * its own uid and gid ({@code uidBase + domid}), and connecting to a Unix socket needs write
 * permission on it. With umask 022 the socket is {@code rwxr-xr-x root:root} and the connect fails
 * with EACCES (which the agent does not retry). A default ACL does not help: af_unix applies the
 * umask itself. A chmod after the fact races with the agent, which connects as soon as it has the
 * EXEC_CMDLINE. What works without a race:
 * <ul>
 *   <li>the channel directory gets the set-group-id bit (it is {@code rwx------}, owned by the
 *       qube's uid and gid, so a socket created in it belongs to the qube's group), and</li>
 *   <li>the daemon's umask allows group write (022 becomes 002), so the socket is group-writable.</li>
 * </ul>
 * Nobody else gains access: the directory is reachable by the qube (owner) and root only. The umask
 * change is process-wide (files the daemon creates become writable by their group, root's group
 * or the set-gid directory's group) and is undone by {@link #close()}. The proper fix is in the
 * broker: set the mode of a listener before telling the agent about it (reported).
 */
final class ChannelSocketAccess implements AutoCloseable {

    /** The set-group-id bit with {@code rwx------}. */
    static final int CHANNEL_DIR_MODE = 02700;
    /** Bits cleared from the umask: group write. */
    static final int GROUP_WRITE = 020;

    private interface LibC extends Library {
        int umask(int mask);
    }

    private static final LibC LIBC = Native.load("c", LibC.class);

    private final int previousUmask;

    /** Allows group write in the umask (022 becomes 002); keeps every other restriction. */
    ChannelSocketAccess() {
        int old = LIBC.umask(022);
        this.previousUmask = old;
        LIBC.umask(old & ~GROUP_WRITE);
    }

    /**
     * Gives sockets created in {@code channelDir} the group of the directory (the qube's). Call
     * after the backend prepared the directory (it sets {@code rwx------}, which clears set-gid).
     */
    void share(Path channelDir) throws IOException {
        Files.setAttribute(channelDir, "unix:mode", CHANNEL_DIR_MODE, LinkOption.NOFOLLOW_LINKS);
    }

    /** The umask in force now (reads and restores it). */
    static int currentUmask() {
        int m = LIBC.umask(022);
        LIBC.umask(m);
        return m;
    }

    @Override
    public void close() {
        LIBC.umask(previousUmask);
    }
}
