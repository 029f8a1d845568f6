package dev.qrexec.policy.cli;

import dev.qrexec.policy.load.PolicyLocation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The policy directories named on a command line, and how their files are shown back to the user:
 * the engine names a file relative to its policy directory ({@code 30-user.policy}); the tools
 * print it under the directory as the user typed it ({@code policies-examples/policy.d/30-user.policy}).
 */
record PolicyDirs(List<Path> directories, Path legacyDirectory) {

    PolicyDirs {
        directories = List.copyOf(directories);
    }

    PolicyLocation location() {
        return new PolicyLocation(directories, legacyDirectory);
    }

    /** The user-facing path of a file named relative to its policy directory (the first one holding it wins). */
    String display(String file) {
        if (file == null) {
            return null;
        }
        Path p = Path.of(file);
        if (p.isAbsolute()) {
            return file;
        }
        for (Path dir : directories) {
            if (Files.exists(dir.resolve(p))) {
                return dir.resolve(p).toString();
            }
        }
        return file;
    }

    /** Directories that do not exist or are not directories, with the reason. */
    List<String> problems() {
        List<String> out = new ArrayList<>();
        for (Path dir : directories) {
            if (!Files.exists(dir)) {
                out.add(dir + ": no such directory");
            } else if (!Files.isDirectory(dir)) {
                out.add(dir + ": not a directory");
            }
        }
        return out;
    }

    /** The top-level policy files, the earlier directory winning for a shared name (spec 1.1). */
    List<Path> topLevelFiles() throws IOException {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path dir : directories) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".policy") && !name.startsWith(".") && Files.isRegularFile(f)) {
                        byName.putIfAbsent(name, f);
                    }
                }
            }
        }
        return List.copyOf(byName.values());
    }
}
