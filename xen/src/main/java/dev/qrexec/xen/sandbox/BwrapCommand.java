package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds the command line that turns a {@link QubeSpec} into a sandbox:
 *
 * <pre>
 * /bin/sh -c 'join cgroups; exec "$@"' ... -- setpriv --reuid U --regid U ... bwrap --args 0 -- init...
 * </pre>
 *
 * <ol>
 *   <li>a tiny shell writes its own pid into the qube's {@code cgroup.procs} files, so everything the
 *       qube ever runs is inside its cgroups from the first instruction;</li>
 *   <li>{@code setpriv} drops to the qube's dedicated host uid/gid with no supplementary groups,
 *       no capabilities (bounding and inheritable sets empty) and no_new_privs;</li>
 *   <li>{@code bwrap}, now unprivileged, creates the user, pid, mount, ipc, uts, cgroup and network
 *       namespaces and mounts only what the qube is given; its root is a tmpfs made read-only at the
 *       end.</li>
 * </ol>
 *
 * <p>The template root's top-level entries are bound read-only: directories and files as they are,
 * relative symlinks re-created as symlinks, absolute symlinks bound from their target (so a template
 * root can say {@code usr -> /usr} to share the host's). Names in
 * {@link SandboxLayout#RESERVED_TOP_LEVEL} are skipped. The environment is not on this command line
 * (it would show in {@code ps}); the launcher passes it through the process environment.
 */
public final class BwrapCommand {

    static final String JOIN_CGROUPS_SCRIPT =
            "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";

    private BwrapCommand() {
    }

    /**
     * What to run: {@code command} is the process to start; {@code bwrapOptions} are written,
     * NUL-separated, to its stdin, which bwrap reads with {@code --args 0}. So the mounts (host
     * paths of the qube's storage) show neither in the host's {@code ps} nor in the command line of
     * the pid-1 reaper the qube sees as its {@code /proc/1/cmdline}.
     */
    public record Launch(List<String> command, List<String> bwrapOptions) {

        /** The options as bwrap's {@code --args} format wants them. */
        public byte[] optionsBytes() {
            StringBuilder text = new StringBuilder();
            for (String option : bwrapOptions) {
                if (option.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("NUL in a bubblewrap option: " + option);
                }
                text.append(option).append('\0');
            }
            return text.toString().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The whole launch. */
    public static Launch launcher(Path setpriv, Path bwrap, List<Path> procsFiles, int hostUid,
                                  QubeSpec spec, Path privateDir) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("/bin/sh");
        cmd.add("-c");
        cmd.add(JOIN_CGROUPS_SCRIPT);
        cmd.add("qrexec-sandbox-" + spec.name());
        for (Path procs : procsFiles) {
            cmd.add(procs.toString());
        }
        cmd.add("--");
        cmd.addAll(setpriv(setpriv, hostUid));
        cmd.add(bwrap.toString());
        cmd.addAll(List.of("--args", "0", "--"));
        cmd.addAll(spec.init());
        return new Launch(cmd, sandboxOptions(spec, privateDir));
    }

    static List<String> setpriv(Path setpriv, int hostUid) {
        return List.of(setpriv.toString(), "--reuid=" + hostUid, "--regid=" + hostUid, "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs");
    }

    /** bwrap options (without the binary and the command). */
    static List<String> sandboxOptions(QubeSpec spec, Path privateDir) throws IOException {
        Path templateRoot = spec.templateRoot().orElseThrow(() -> new IllegalArgumentException(
                "qube '" + spec.name() + "' has no templateRoot"));
        List<String> args = new ArrayList<>(List.of(
                "--unshare-all", "--unshare-user",
                "--uid", Integer.toString(SandboxLayout.GUEST_UID),
                "--gid", Integer.toString(SandboxLayout.GUEST_UID),
                "--hostname", spec.name(),
                "--new-session"));
        args.addAll(templateMounts(templateRoot));
        args.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
        args.addAll(List.of("--size", Long.toString(SandboxLayout.RUN_SIZE_BYTES), "--tmpfs", SandboxLayout.RUN_MOUNT));
        if (spec.volatileSizeMiB() > 0) {
            args.addAll(List.of("--size", Long.toString(spec.volatileSizeMiB() << 20),
                    "--tmpfs", SandboxLayout.VOLATILE_MOUNT));
        } else {
            args.addAll(List.of("--dir", SandboxLayout.VOLATILE_MOUNT));
        }
        if (privateDir != null) {
            args.addAll(List.of("--bind", privateDir.toString(), SandboxLayout.PRIVATE_MOUNT,
                    "--bind", privateDir.resolve("home/user").toString(), SandboxLayout.HOME_MOUNT,
                    "--chdir", SandboxLayout.HOME_MOUNT));
        } else {
            args.addAll(List.of("--dir", SandboxLayout.PRIVATE_MOUNT, "--dir", SandboxLayout.HOME_MOUNT,
                    "--chdir", "/"));
        }
        spec.channelDir().ifPresent(dir ->
                args.addAll(List.of("--bind", dir.toString(), SandboxLayout.CHANNEL_MOUNT)));
        args.addAll(List.of("--remount-ro", "/"));
        return args;
    }

    /** Mount options for the template root's top-level entries, in name order. */
    static List<String> templateMounts(Path templateRoot) throws IOException {
        Objects.requireNonNull(templateRoot, "templateRoot");
        if (!Files.isDirectory(templateRoot)) {
            throw new IOException("template root " + templateRoot + " is not a directory");
        }
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(templateRoot)) {
            stream.forEach(entries::add);
        }
        entries.sort(null);
        List<String> args = new ArrayList<>();
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            if (SandboxLayout.RESERVED_TOP_LEVEL.contains(name) || name.startsWith(".")) {
                continue;
            }
            String inside = "/" + name;
            if (Files.isSymbolicLink(entry)) {
                Path target = Files.readSymbolicLink(entry);
                if (target.isAbsolute()) {
                    if (!Files.exists(target)) {
                        continue; // a host directory this machine does not have (e.g. /lib32)
                    }
                    args.addAll(List.of("--ro-bind", target.toRealPath().toString(), inside));
                } else {
                    args.addAll(List.of("--symlink", target.toString(), inside));
                }
            } else if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)
                    || Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                args.addAll(List.of("--ro-bind", entry.toString(), inside));
            }
        }
        return args;
    }
}
