package dev.qrexec.policy.load;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where a policy lives (spec 1.1, 1.5).
 *
 * @param directories     policy directories in priority order: for the same file name, the earlier
 *                        directory's file wins; files are then read in file-name order
 * @param legacyDirectory the R4.0 directory spliced in by {@code !compat-4.0}
 */
public record PolicyLocation(List<Path> directories, Path legacyDirectory) {

    public static final Path RUNTIME_POLICY_DIR = Path.of("/run/qubes/policy.d");
    public static final Path POLICY_DIR = Path.of("/etc/qubes/policy.d");
    public static final Path LEGACY_POLICY_DIR = Path.of("/etc/qubes-rpc/policy");

    public PolicyLocation {
        directories = List.copyOf(directories);
        Objects.requireNonNull(legacyDirectory, "legacyDirectory");
        if (directories.isEmpty()) {
            throw new IllegalArgumentException("at least one policy directory is required");
        }
    }

    /** The system's directories: {@code /run/qubes/policy.d}, then {@code /etc/qubes/policy.d}. */
    public static PolicyLocation system() {
        return new PolicyLocation(List.of(RUNTIME_POLICY_DIR, POLICY_DIR), LEGACY_POLICY_DIR);
    }

    /** One directory, with the default legacy directory. */
    public static PolicyLocation of(Path directory) {
        return new PolicyLocation(List.of(directory), LEGACY_POLICY_DIR);
    }

    public PolicyLocation withLegacyDirectory(Path legacy) {
        return new PolicyLocation(directories, legacy);
    }
}
