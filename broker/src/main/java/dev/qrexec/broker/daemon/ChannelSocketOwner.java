package dev.qrexec.broker.daemon;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * Gives a socket the broker just bound in a qube's channel directory to that qube: owner and group
 * of the directory, mode {@code 0600}. Connecting to a Unix socket needs write permission on it, and
 * the broker (root) binds with its own umask, so without this a sandboxed qube (its own uid) gets
 * EACCES. Call it after the bind and before the message that makes the peer connect
 * (EXEC_CMDLINE, SERVICE_CONNECT): the peer cannot be early. Where the peer may already be trying
 * (qrexec-client learns its port only after the daemon told the agent), bind in a private
 * staging directory on the same file system and {@link #publish} the socket instead.
 *
 * <p>The qube owns the directory, so it may swap the new file for a symlink or another file at any
 * time: the file is opened once with {@code O_PATH|O_NOFOLLOW}, checked to be a socket, and changed
 * through that descriptor ({@code /proc/self/fd/N}), never by a path the qube could redirect.
 */
public final class ChannelSocketOwner {

    private static final int O_NOFOLLOW = 0400000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_PATH = 010000000;
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private interface LibC extends Library {
        int open(String path, int flags);

        int close(int fd);
    }

    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    private ChannelSocketOwner() {
    }

    /** Chowns {@code socket} to the owner and group of its directory and sets mode 0600. */
    public static void grantToDirectoryOwner(Path socket) throws IOException {
        grant(socket, socket.toAbsolutePath().getParent());
    }

    /**
     * Gives the socket bound at {@code staged} to the owner of {@code destination}'s directory,
     * then renames it to {@code destination}: a peer polling for that name finds nothing, then a
     * socket it may use, never one it may not.
     */
    public static void publish(Path staged, Path destination) throws IOException {
        grant(staged, destination.toAbsolutePath().getParent());
        Files.move(staged, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void grant(Path socket, Path ownerDir) throws IOException {
        Map<String, Object> dir = Files.readAttributes(ownerDir, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
        LibC libc;
        try {
            libc = Holder.LIBC;
        } catch (LinkageError e) {
            throw new IOException("cannot load libc through JNA to open " + socket + ": " + e, e);
        }
        int fd = libc.open(socket.toString(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + socket + ": errno " + Native.getLastError());
        }
        try {
            Path pinned = Path.of("/proc/self/fd/" + fd);
            Map<String, Object> file = Files.readAttributes(pinned, "unix:mode,uid,gid");
            if (((int) file.get("mode") & S_IFMT) != S_IFSOCK) {
                throw new IOException(socket + " is no longer the socket that was bound (replaced)");
            }
            if (!file.get("uid").equals(dir.get("uid"))) {
                Files.setAttribute(pinned, "unix:uid", dir.get("uid"));
            }
            if (!file.get("gid").equals(dir.get("gid"))) {
                Files.setAttribute(pinned, "unix:gid", dir.get("gid"));
            }
            Files.setPosixFilePermissions(pinned, PosixFilePermissions.fromString("rw-------"));
        } finally {
            libc.close(fd);
        }
    }
}
