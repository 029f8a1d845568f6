package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * The host side of a qube's storage: its private directory and its channel directory.
 *
 * <p>Ownership: everything the qube may write belongs to its host uid/gid (which is {@code user}
 * inside). An AppVM's private directory is re-owned only when its top directory does not already
 * belong to the qube (first start, or a changed domain id), so restarts stay cheap. A disposable's
 * private directory is a fresh copy of its source, made and owned by the qube at every start, and
 * deleted at stop. Copies never follow symlinks: a link in the source is copied as a link.
 */
final class PrivateStorage {

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private PrivateStorage() {
    }

    /** Makes the private directory ready for a start; returns it, or empty when the qube has none. */
    static Optional<Path> prepare(QubeSpec spec, int hostUid) throws IOException {
        if (spec.privateStorage().isEmpty()) {
            return Optional.empty();
        }
        Path dir = spec.privateStorage().get();
        if (spec.privateSource().isPresent()) {
            deleteTree(dir);
            copyTree(spec.privateSource().get(), dir, hostUid);
        } else {
            Files.createDirectories(dir);
            if (ownerUid(dir) != hostUid) {
                chownTree(dir, hostUid);
            }
        }
        Path home = dir.resolve("home/user");
        if (!Files.isDirectory(home, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(home);
            chown(dir.resolve("home"), hostUid);
            chown(home, hostUid);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return Optional.of(dir);
    }

    /** Deletes a disposable's private directory; nothing for a qube that keeps its storage. */
    static void discardIfDisposable(QubeSpec spec) throws IOException {
        if (spec.discardOnStop() && spec.privateStorage().isPresent()) {
            deleteTree(spec.privateStorage().get());
        }
    }

    /** Creates the channel directory if needed and gives it to the qube (mode 0700). */
    static void prepareChannelDir(QubeSpec spec, int hostUid) throws IOException {
        if (spec.channelDir().isPresent()) {
            Path dir = spec.channelDir().get();
            Files.createDirectories(dir);
            chown(dir, hostUid);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /**
     * Deletes the sockets the qube left in its channel directory (those owned by its uid); sockets
     * of the daemon side and other files are left alone. Returns how many were deleted.
     */
    static int removeQubeSockets(QubeSpec spec, int hostUid) throws IOException {
        if (spec.channelDir().isEmpty() || !Files.isDirectory(spec.channelDir().get())) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(spec.channelDir().get())) {
            for (Path entry : entries) {
                try {
                    int mode = (Integer) Files.getAttribute(entry, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                    if ((mode & S_IFMT) == S_IFSOCK && ownerUid(entry) == hostUid) {
                        Files.deleteIfExists(entry);
                        removed++;
                    }
                } catch (NoSuchFileException e) {
                    // gone meanwhile
                }
            }
        }
        return removed;
    }

    static int ownerUid(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static void chown(Path path, int uid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    private static void chownTree(Path root, int uid) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                chown(dir, uid);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                chown(file, uid);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void copyTree(Path source, Path target, int uid) throws IOException {
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("private source " + source + " is not a directory");
        }
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path to = target.resolve(source.relativize(dir).toString());
                Files.copy(dir, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                chown(to, uid);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isOther()) {
                    return FileVisitResult.CONTINUE; // sockets, fifos, devices are not storage
                }
                Path to = target.resolve(source.relativize(file).toString());
                Files.copy(file, to, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                chown(to, uid);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Deletes a tree without following symlinks; a missing tree is fine. */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
