package dev.qrexec.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The example {@code policy.d} and the system it describes, read from the class path (they are
 * packaged under {@code dev/qrexec/examples/}), so a demo can install them anywhere.
 *
 * <p>The set is a small desktop: a vault nobody reaches, split GPG to {@code gpg}, URLs and
 * documents in disposables, file copies that ask, and the policy admin API through {@code include/}.
 */
public final class ExamplePolicies {

    private static final String BASE = "/dev/qrexec/examples/";

    private ExamplePolicies() {
    }

    /** The files of the example {@code policy.d}, as paths relative to it (e.g. {@code include/admin-policy-ro}). */
    public static List<String> policyFiles() {
        return readResource("policy.d.index").lines().filter(l -> !l.isBlank()).toList();
    }

    /** The text of one file of the example {@code policy.d}. */
    public static String policyFile(String relative) {
        if (!policyFiles().contains(relative)) {
            throw new IllegalArgumentException("no example policy file " + relative + "; known: " + policyFiles());
        }
        return readResource("policy.d/" + relative);
    }

    /** The system info ({@code internal.GetSystemInfo} format) the example policy is written for. */
    public static String systemInfoJson() {
        return readResource("system-info.json");
    }

    /**
     * Writes the example {@code policy.d} into {@code dir} (created if missing; existing files of the
     * same names are replaced, others are left alone). Each file is written under a temporary name and
     * renamed, so a watching daemon never reads half a file.
     */
    public static void installPolicyDir(Path dir) throws IOException {
        for (String relative : policyFiles()) {
            Path target = dir.resolve(relative);
            Files.createDirectories(target.getParent());
            Path temporary = target.resolveSibling("." + target.getFileName() + ".tmp");
            Files.writeString(temporary, policyFile(relative), StandardCharsets.UTF_8);
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Writes {@link #systemInfoJson()} to {@code file}. */
    public static void installSystemInfo(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = parent.resolve("." + file.getFileName() + ".tmp");
        Files.writeString(temporary, systemInfoJson(), StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String readResource(String name) {
        try (InputStream in = ExamplePolicies.class.getResourceAsStream(BASE + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + BASE + name + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + BASE + name, e);
        }
    }
}
