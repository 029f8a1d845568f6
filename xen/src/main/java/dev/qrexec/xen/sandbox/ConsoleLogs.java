package dev.qrexec.xen.sandbox;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Keeps a qube's console log bounded. The qube writes to it through an inherited file descriptor
 * opened in append mode, so the file can be cut under it: when it grows past the cap, its last
 * quarter is kept in {@code console.log.1} (replacing the previous one) and the log is truncated to
 * zero; the qube's next write lands at the new end. A qube flooding its stdout thus costs at most
 * about 1.25 x the cap on the host's disk, checked every few seconds.
 */
final class ConsoleLogs {

    private ConsoleLogs() {
    }

    /** Rotates {@code log} if it is larger than {@code maxBytes}; returns true if it did. */
    static boolean rotateIfLarger(Path log, long maxBytes) throws IOException {
        long size;
        try {
            size = Files.size(log);
        } catch (NoSuchFileException e) {
            return false;
        }
        if (maxBytes <= 0 || size <= maxBytes) {
            return false;
        }
        Path kept = log.resolveSibling(log.getFileName() + ".1");
        Path tmp = log.resolveSibling(log.getFileName() + ".1.tmp");
        long keep = Math.max(1, maxBytes / 4);
        try (RandomAccessFile source = new RandomAccessFile(log.toFile(), "r");
             FileChannel target = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            long from = Math.max(0, size - keep);
            source.getChannel().transferTo(from, size - from, target);
        }
        Files.move(tmp, kept, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.truncate(0);
        }
        return true;
    }
}
