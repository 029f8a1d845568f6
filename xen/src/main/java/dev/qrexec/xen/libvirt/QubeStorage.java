package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/**
 * The files the backend manages around a qube's disks, like Qubes' storage pool does for a
 * disposable: a fresh private volume copied from {@code privateSource} before start, a sparse
 * volatile image created for each run, both discarded after the qube stops (private only for a
 * {@code discardOnStop} qube). Works with image files and with directories alike.
 *
 * <p>Called only on the backend's operation threads, in the qube's serial order.
 */
final class QubeStorage {

    private final Optional<Path> storageDir;

    QubeStorage(Optional<Path> storageDir) {
        this.storageDir = storageDir;
    }

    /** Where the volatile image of this qube lives, if the backend keeps one. */
    Optional<Path> volatileImage(QubeSpec spec) {
        if (spec.volatileSizeMiB() == 0) {
            return Optional.empty();
        }
        return storageDir.map(d -> d.resolve(spec.name()).resolve("volatile.img"));
    }

    /** Before start: fresh private copy (if the spec asks) and an empty volatile image. */
    void prepare(QubeSpec spec) {
        try {
            if (spec.privateSource().isPresent()) {
                Path target = spec.privateStorage().orElseThrow();
                deleteTree(target);
                copyTree(spec.privateSource().get(), target);
            }
            Optional<Path> vol = volatileImage(spec);
            if (vol.isPresent()) {
                Files.createDirectories(vol.get().getParent());
                Files.deleteIfExists(vol.get());
                try (RandomAccessFile f = new RandomAccessFile(vol.get().toFile(), "rw")) {
                    f.setLength(spec.volatileSizeMiB() * 1024 * 1024);  // sparse: no blocks written
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare storage of qube '" + spec.name() + "': " + e, e);
        }
    }

    /** After stop: the volatile image goes, and the private volume of a discardOnStop qube. */
    void release(QubeSpec spec) {
        try {
            Optional<Path> vol = volatileImage(spec);
            if (vol.isPresent()) {
                Files.deleteIfExists(vol.get());
            }
            if (spec.discardOnStop() && spec.privateStorage().isPresent()) {
                deleteTree(spec.privateStorage().get());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up storage of qube '" + spec.name() + "': " + e, e);
        }
    }

    /** After undefine: the qube's directory under the storage directory. */
    void forget(QubeSpec spec) {
        if (storageDir.isEmpty()) {
            return;
        }
        try {
            deleteTree(storageDir.get().resolve(spec.name()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete storage of qube '" + spec.name() + "': " + e, e);
        }
    }

    static void copyTree(Path source, Path target) throws IOException {
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            return;
        }
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(target.resolve(source.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, target.resolve(source.relativize(file).toString()),
                        StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(root);
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
