package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sandbox.cgroup.CgroupActions;
import dev.qrexec.xen.sandbox.cgroup.CgroupDriver;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts a qube's sandbox and waits until its init runs.
 *
 * <p>Readiness: the init runs once the cgroup holds a process that is not bubblewrap (compared by
 * the inode of {@code /proc/<pid>/exe}) whose parent is bubblewrap's pid-1 reaper. Until then the
 * sandbox is still being set up; if the launcher exits first, setup failed and its error is in the
 * console log.
 */
final class SandboxLauncher {

    /**
     * A launched sandbox: the launcher (outer bwrap, our child) and the init inside; {@code init} is
     * null when the init already exited before it could be seen.
     */
    record Launched(Process launcher, ProcessHandle init) {
    }

    /** bubblewrap's exit status when it fails before exec-ing the command. */
    static final int BWRAP_SETUP_FAILURE = 1;

    private final Path setpriv;
    private final Path bwrap;
    private final Object bwrapKey;
    private final CgroupDriver cgroups;

    SandboxLauncher(Path setpriv, Path bwrap, CgroupDriver cgroups) throws IOException {
        this.setpriv = setpriv;
        this.bwrap = bwrap;
        this.bwrapKey = fileKey(bwrap);
        this.cgroups = cgroups;
    }

    Launched launch(QubeSpec spec, int hostUid, Optional<Path> privateDir, Path consoleLog, Duration timeout)
            throws IOException {
        BwrapCommand.Launch launch = BwrapCommand.launcher(setpriv, bwrap, cgroups.procsFiles(spec.name()), hostUid,
                spec, privateDir.orElse(null));
        ProcessBuilder builder = new ProcessBuilder(launch.command())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(consoleLog.toFile())) // O_APPEND: ConsoleLogs can cut it
                .redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.clear();
        env.putAll(guestEnvironment(spec));
        Files.deleteIfExists(consoleLog); // each start begins a new console
        Files.deleteIfExists(consoleLog.resolveSibling(consoleLog.getFileName() + ".1"));
        Process launcher = builder.start();
        try (var options = launcher.getOutputStream()) {
            options.write(launch.optionsBytes()); // bwrap reads them with --args 0; then stdin is at EOF
        } catch (IOException e) {
            // the launcher died before reading them: its console says why, awaitInit reports it
        }
        try {
            ProcessHandle init = awaitInit(spec, launcher, consoleLog, timeout);
            return new Launched(launcher, init);
        } catch (IOException | RuntimeException e) {
            try {
                // the sandbox first, then its launcher: no orphan is left for the host's init to reap
                new CgroupActions(cgroups).killAndRemove(spec.name(), timeout, launcher.pid());
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            launcher.destroyForcibly();
            try {
                launcher.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
    }

    static Map<String, String> guestEnvironment(QubeSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        env.put("HOME", SandboxLayout.HOME_MOUNT);
        env.put("USER", "user");
        env.put("LOGNAME", "user");
        env.put("LANG", "C.UTF-8");
        env.put("VCHAN_DOMAIN", Integer.toString(spec.domainId()));
        if (spec.channelDir().isPresent()) {
            env.put("VCHAN_SOCKET_DIR", SandboxLayout.CHANNEL_MOUNT);
        }
        env.putAll(spec.environment());
        return env;
    }

    /**
     * Returns the init, or null when the sandbox already exited after running an init too short-lived
     * to be seen (the caller then reports its death). A sandbox that exits with bwrap's own error
     * (status 1 and a {@code bwrap:} line on the console) never ran its init: that fails the start.
     */
    private ProcessHandle awaitInit(QubeSpec spec, Process launcher, Path consoleLog, Duration timeout)
            throws IOException {
        ProcessHandle[] found = new ProcessHandle[1];
        boolean ready = CgroupActions.await(() -> {
            found[0] = findInit(spec.name(), launcher.pid());
            return found[0] != null || !launcher.isAlive();
        }, timeout);
        if (found[0] != null) {
            return found[0];
        }
        if (!ready) {
            throw new HypervisorException.Timeout("qube '" + spec.name() + "': init not running after "
                    + timeout.toMillis() + " ms; console: " + consoleTail(consoleLog));
        }
        int status = waitFor(launcher);
        String console = consoleTail(consoleLog);
        if (status == BWRAP_SETUP_FAILURE && console.contains("bwrap: ")) {
            throw new HypervisorException.OperationFailed("qube '" + spec.name() + "': sandbox setup failed: "
                    + console);
        }
        return null;
    }

    private static int waitFor(Process process) {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private ProcessHandle findInit(String qube, long launcherPid) throws IOException {
        for (long pid : cgroups.pids(qube)) {
            // an exiting process (a failed exec) has no readable exe: unknown is never the init
            if (pid == launcherPid || !Boolean.FALSE.equals(isBwrap(pid))) {
                continue;
            }
            Optional<ProcessHandle> process = ProcessHandle.of(pid);
            Optional<ProcessHandle> parent = process.flatMap(ProcessHandle::parent);
            if (parent.isPresent() && Boolean.TRUE.equals(isBwrap(parent.get().pid()))) {
                return process.get();
            }
        }
        return null;
    }

    /** True or false when {@code /proc/<pid>/exe} can be read, null when it cannot (exited, zombie). */
    private Boolean isBwrap(long pid) {
        try {
            return bwrapKey.equals(fileKey(Path.of("/proc", Long.toString(pid), "exe")));
        } catch (IOException e) {
            return null;
        }
    }

    private static Object fileKey(Path path) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(path, "unix:dev,ino");
        return List.of(attrs.get("dev"), attrs.get("ino"));
    }

    /** The last lines of a console log, on one line, for error messages. */
    static String consoleTail(Path consoleLog) {
        try (RandomAccessFile file = new RandomAccessFile(consoleLog.toFile(), "r")) {
            long length = file.length();
            int size = (int) Math.min(length, 1024);
            byte[] bytes = new byte[size];
            file.seek(length - size);
            file.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8).strip().replace('\n', '|');
            return text.isEmpty() ? "(empty)" : text;
        } catch (IOException e) {
            return "(no console log: " + e.getMessage() + ")";
        }
    }
}
