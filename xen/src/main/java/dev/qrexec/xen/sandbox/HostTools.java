package dev.qrexec.xen.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Looks up host binaries and host memory. */
final class HostTools {

    private HostTools() {
    }

    /** First executable {@code name} on {@code PATH}, then in the usual system directories. */
    static Optional<Path> findExecutable(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** {@code MemTotal} of /proc/meminfo, in bytes. */
    static long memTotalBytes(Path meminfo) throws IOException {
        for (String line : Files.readAllLines(meminfo)) {
            if (line.startsWith("MemTotal:")) {
                String[] parts = line.substring("MemTotal:".length()).trim().split("\\s+");
                try {
                    return Long.parseLong(parts[0]) * 1024;
                } catch (NumberFormatException e) {
                    throw new IOException("unexpected MemTotal line in " + meminfo + ": " + line, e);
                }
            }
        }
        throw new IOException("no MemTotal in " + meminfo);
    }
}
