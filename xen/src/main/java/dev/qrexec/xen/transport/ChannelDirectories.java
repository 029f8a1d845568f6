package dev.qrexec.xen.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One channel directory per qube under a base directory: {@code <base>/<qube>/}. A qube's sandbox
 * sees only its own directory, so it can reach only its own vchans; the broker sees them all.
 *
 * <p>Directories are made with mode 0700 unless told otherwise (a backend whose qube runs as another
 * user widens it, e.g. to 0770 with a shared group). The longest socket name the transport makes
 * ({@code vchan.<5 digits>.<5 digits>.<10 digits>.sock}) must fit the socket path limit ({@link VchanAddress#MAX_PATH_BYTES})
 * in every directory; {@link #ChannelDirectories} checks that once for the longest qube name.
 */
public final class ChannelDirectories {

    /** Qube names as {@link dev.qrexec.xen.QubeSpec} allows them. */
    private static final String NAME = "[A-Za-z][A-Za-z0-9_.-]{0,30}";
    private static final String LONGEST_SOCKET = "/" + "q".repeat(31) + "/vchan.32767.32767.4294967295.sock";

    private final Path base;
    private final Set<PosixFilePermission> mode;

    /** Directories with mode 0700 under {@code base}. */
    public ChannelDirectories(Path base) {
        this(base, PosixFilePermissions.fromString("rwx------"));
    }

    public ChannelDirectories(Path base, Set<PosixFilePermission> mode) {
        this.base = Objects.requireNonNull(base, "base").toAbsolutePath().normalize();
        this.mode = Set.copyOf(Objects.requireNonNull(mode, "mode"));
        int bytes = (this.base + LONGEST_SOCKET).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > VchanAddress.MAX_PATH_BYTES) {
            throw new IllegalArgumentException("channel base directory " + this.base + " is too long: socket paths"
                    + " under it can reach " + bytes + " bytes, a Unix socket path may have at most "
                    + VchanAddress.MAX_PATH_BYTES + " (keep the base under "
                    + (VchanAddress.MAX_PATH_BYTES - LONGEST_SOCKET.length()) + " bytes)");
        }
    }

    public Path base() {
        return base;
    }

    /** The directory of {@code qube} (whether or not it exists). */
    public Path of(String qube) {
        Objects.requireNonNull(qube, "qube");
        if (!qube.matches(NAME)) {
            throw new IllegalArgumentException("invalid qube name for a channel directory: '" + qube + "'");
        }
        return base.resolve(qube);
    }

    /**
     * Makes (or keeps) the directory of {@code qube} with this instance's mode and returns it.
     * Sockets already in it are kept: a broker that restarts finds its paused qubes' channels again.
     * Refuses a symbolic link or a file in the way.
     */
    public Path create(String qube) {
        Path dir = of(qube);
        try {
            Files.createDirectories(base);
            try {
                Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("channel directory " + dir + " exists and is not a directory"
                            + " (a file or a symbolic link is in the way)", e);
                }
            }
            Files.setPosixFilePermissions(dir, mode);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make channel directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the directory of {@code qube} and everything in it; nothing happens if it is absent. */
    public void remove(String qube) {
        Path dir = of(qube);
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(dir)) {
            List<Path> deepestFirst = tree.sorted(Comparator.reverseOrder()).toList();
            for (Path path : deepestFirst) {
                try {
                    Files.delete(path);
                } catch (NoSuchFileException gone) {
                    // a socket closed and unlinked by its listener meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove channel directory " + dir + ": " + e.getMessage(), e);
        }
    }
}
