package dev.qrexec.xen.sandbox.cgroup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Small helpers to read and write cgroupfs control files (one write per value, no truncation). */
final class CgroupFiles {

    private CgroupFiles() {
    }

    static void write(Path file, String value) throws IOException {
        // cgroupfs files must be written in one write(2) and not truncated: TRUNCATE_EXISTING on a
        // kernel file is harmless, but a fake directory in tests needs it to behave like a real one.
        Files.writeString(file, value, StandardCharsets.US_ASCII,
                StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }

    static long readLong(Path file) throws IOException {
        String text = read(file);
        if (text.equals("max")) {
            return Long.MAX_VALUE;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException("unexpected content in " + file + ": '" + text + "'", e);
        }
    }

    /** Value of {@code key} in a flat-keyed file such as {@code memory.events}; 0 if absent. */
    static long readKeyed(Path file, String key) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].equals(key)) {
                try {
                    return Long.parseLong(parts[1]);
                } catch (NumberFormatException e) {
                    throw new IOException("unexpected value for '" + key + "' in " + file + ": " + line, e);
                }
            }
        }
        return 0;
    }

    static Set<Long> readPids(Path procs) throws IOException {
        Set<Long> pids = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(procs, StandardCharsets.US_ASCII)) {
                String trimmed = line.trim();
                if (!trimmed.isEmpty()) {
                    pids.add(Long.parseLong(trimmed));
                }
            }
        } catch (NoSuchFileException e) {
            return Set.of();
        } catch (NumberFormatException e) {
            throw new IOException("unexpected content in " + procs, e);
        }
        return pids;
    }

    static List<String> subdirectories(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path entry : entries) {
                names.add(entry.getFileName().toString());
            }
        }
        names.sort(null);
        return names;
    }

    /** rmdir; a missing directory is fine, a busy one is an error the caller reports. */
    static void rmdir(Path dir) throws IOException {
        try {
            Files.deleteIfExists(dir);
        } catch (NoSuchFileException e) {
            // raced with another remover: the group is gone, which is what was asked
        }
    }
}
