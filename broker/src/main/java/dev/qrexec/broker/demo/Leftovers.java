package dev.qrexec.broker.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a stopped system must not leave behind: processes started by this JVM, cgroups of its
 * backend instance, mounts under its state directory, and sockets in it.
 */
public final class Leftovers {

    private Leftovers() {
    }

    /** Each leftover found, one line each; empty when the host is clean. */
    public static List<String> find(Path stateDir, String instance, Path cgroupRoot) {
        List<String> found = new ArrayList<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p ->
                found.add("process " + p.pid() + " " + p.info().commandLine().orElse("?")));
        found.addAll(cgroups(cgroupRoot, "qrexec." + instance));
        found.addAll(mounts(stateDir));
        found.addAll(sockets(stateDir));
        return found;
    }

    /** Directories named {@code name} one or two levels under the cgroup root (v1 hierarchies, v2, unified). */
    static List<String> cgroups(Path root, String name) {
        List<String> found = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return found;
        }
        try (Stream<Path> top = Files.list(root)) {
            for (Path h : top.toList()) {
                if (h.getFileName().toString().equals(name)) {
                    found.add("cgroup " + h);
                } else if (Files.isDirectory(h) && Files.isDirectory(h.resolve(name))) {
                    found.add("cgroup " + h.resolve(name));
                }
            }
        } catch (IOException e) {
            found.add("cgroups under " + root + " unreadable: " + e.getMessage());
        }
        return found;
    }

    /** Mount points at or under {@code dir} in this mount namespace (/proc/self/mountinfo, field 5). */
    static List<String> mounts(Path dir) {
        List<String> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && (f[4].equals(dir.toString()) || f[4].startsWith(dir + "/"))) {
                    found.add("mount " + f[4]);
                }
            }
        } catch (IOException e) {
            found.add("mounts unreadable: " + e.getMessage());
        }
        return found;
    }

    /** Unix socket files under {@code dir}. */
    static List<String> sockets(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.find(dir, 16, (p, a) -> isSocket(p, a))) {
            return files.map(p -> "socket " + p).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of("state directory " + dir + " unreadable: " + e.getMessage());
        }
    }

    private static boolean isSocket(Path p, BasicFileAttributes a) {
        if (!a.isOther()) {
            return false;
        }
        try {
            Object mode = Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return mode instanceof Integer m && (m & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return true;
        }
    }

    /** Deletes a directory tree (symlinks are deleted, never followed). */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
