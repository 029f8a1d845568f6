package dev.qrexec.xen.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a template root directory from the host, so that {@code /bin/sh} and a JVM from
 * {@code /usr/lib/jvm} run inside a sandbox without seeing anything private of the host.
 *
 * <p>What the directory holds:
 * <ul>
 *   <li>{@code usr}, {@code bin}, {@code sbin}, {@code lib*}: the host's relative symlinks copied as
 *       they are ({@code bin -> usr/bin}); the host's real directories as absolute symlinks
 *       ({@code usr -> /usr}), which the backend binds read-only from the host;</li>
 *   <li>{@code etc}: a real directory with a synthetic {@code passwd}/{@code group} ({@code root},
 *       {@code user} 1000, {@code nobody}), {@code hosts}, {@code nsswitch.conf}, and copies of the
 *       non-secret files programs need: {@code ld.so.*}, {@code alternatives}, {@code java-*},
 *       {@code localtime}, {@code os-release}. No shadow, no ssh, no ssl private keys, nothing
 *       else;</li>
 *   <li>extra read-only directories of the layer above, each as a top-level name pointing to a
 *       host directory ({@link Builder#readOnly}), e.g. {@code opt -> /srv/qrexec/agent}.</li>
 * </ul>
 * The backend binds each top-level entry (see {@link BwrapCommand}); a caller may also write real
 * files and directories into the result before using it.
 */
public final class HostTemplateRoot {

    /** Host top-level directories shared read-only (as far as they exist). */
    static final List<String> SYSTEM_DIRS = List.of("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32");

    /** Entries of host /etc copied into the template's etc (prefix match for {@code java-}). */
    static final List<String> ETC_COPIES = List.of("alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
            "localtime", "os-release", "java-");

    /** Never copied, whatever the list above says. */
    static final Set<String> ETC_SECRETS = Set.of("shadow", "gshadow", "shadow-", "gshadow-", "ssh", "sudoers",
            "sudoers.d", "ssl", "machine-id");

    private HostTemplateRoot() {
    }

    public static Builder builder(Path target) {
        return new Builder(target);
    }

    /** Builder; {@link #build} fails if the target exists and is not empty. */
    public static final class Builder {
        private final Path target;
        private Path hostRoot = Path.of("/");
        private final Map<String, Path> readOnly = new LinkedHashMap<>();

        private Builder(Path target) {
            this.target = Objects.requireNonNull(target, "target");
        }

        /** Where the host's file system is (tests use a fake one); default {@code /}. */
        public Builder hostRoot(Path hostRoot) {
            this.hostRoot = Objects.requireNonNull(hostRoot, "hostRoot");
            return this;
        }

        /** Shows the host directory {@code hostDir} read-only at {@code /<name>} in the qube. */
        public Builder readOnly(String name, Path hostDir) {
            Objects.requireNonNull(hostDir, "hostDir");
            if (name == null || !name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
                throw new IllegalArgumentException("read-only directory name must be a single path element, was '"
                        + name + "'");
            }
            if (SandboxLayout.RESERVED_TOP_LEVEL.contains(name) || SYSTEM_DIRS.contains(name) || name.equals("etc")) {
                throw new IllegalArgumentException("'/" + name + "' is managed by the sandbox backend or the host"
                        + " template; choose another name (e.g. opt)");
            }
            if (!hostDir.isAbsolute() || !Files.isDirectory(hostDir)) {
                throw new IllegalArgumentException("read-only directory for '/" + name
                        + "' must be an existing absolute directory, was " + hostDir);
            }
            readOnly.put(name, hostDir);
            return this;
        }

        public Path build() throws IOException {
            if (Files.isDirectory(target)) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
                    if (entries.iterator().hasNext()) {
                        throw new IOException("template root " + target + " exists and is not empty");
                    }
                }
            }
            Files.createDirectories(target);
            for (String dir : SYSTEM_DIRS) {
                Path host = hostRoot.resolve(dir);
                if (Files.isSymbolicLink(host)) {
                    Files.createSymbolicLink(target.resolve(dir), Files.readSymbolicLink(host));
                } else if (Files.isDirectory(host)) {
                    Files.createSymbolicLink(target.resolve(dir), Path.of("/").resolve(dir));
                }
            }
            writeEtc(target.resolve("etc"));
            for (Map.Entry<String, Path> entry : readOnly.entrySet()) {
                Files.createSymbolicLink(target.resolve(entry.getKey()), entry.getValue());
            }
            return target;
        }

        private void writeEtc(Path etc) throws IOException {
            Files.createDirectories(etc);
            write(etc.resolve("passwd"), "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                    + "user:x:" + SandboxLayout.GUEST_UID + ":" + SandboxLayout.GUEST_UID + ":user:/home/user:/bin/sh\n"
                    + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
            write(etc.resolve("group"), "root:x:0:\nuser:x:" + SandboxLayout.GUEST_UID + ":\nnogroup:x:65534:\n");
            write(etc.resolve("hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
            write(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files\n");
            Path hostEtc = hostRoot.resolve("etc");
            List<Path> copies = new ArrayList<>();
            if (Files.isDirectory(hostEtc)) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(hostEtc)) {
                    for (Path entry : entries) {
                        String name = entry.getFileName().toString();
                        boolean wanted = ETC_COPIES.stream().anyMatch(c -> c.endsWith("-") ? name.startsWith(c) : name.equals(c));
                        if (wanted && !ETC_SECRETS.contains(name)) {
                            copies.add(entry);
                        }
                    }
                }
            }
            for (Path entry : copies) {
                copyTree(entry, etc.resolve(entry.getFileName().toString()));
            }
        }

        private static void write(Path file, String content) throws IOException {
            Files.writeString(file, content, StandardCharsets.UTF_8);
        }

        /** Copies files, directories and symlinks (as links); skips anything else and unreadable files. */
        private static void copyTree(Path source, Path to) throws IOException {
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    Files.copy(dir, to.resolve(source.relativize(dir).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                            LinkOption.NOFOLLOW_LINKS);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile() || attrs.isSymbolicLink()) {
                        Path dest = to.resolve(source.relativize(file).toString());
                        Files.copy(file, dest, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        }
    }
}
