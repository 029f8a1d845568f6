package dev.qrexec.policy.reload;

import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * System info read from a JSON file in {@code internal.GetSystemInfo} format, re-read when the
 * file changes (for the standalone daemon and the CLI; the broker builds system info from its own
 * qube registry instead).
 *
 * <p>A file that cannot be read or parsed at start-up leaves the system info unavailable: {@link #get()}
 * then throws {@link SystemInfoUnavailableException} and the daemon denies every request, as the
 * reference does when qubesd cannot answer. A later failure keeps the last good system info.
 */
public final class SystemInfoFile implements Supplier<SystemInfo>, AutoCloseable {

    /** Thrown by {@link #get()} while no system info was ever loaded. */
    public static final class SystemInfoUnavailableException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        SystemInfoUnavailableException(String message) {
            super(message);
        }
    }

    private final Path file;
    private final SnapshotReloader<Optional<SystemInfo>> reloader;
    private final DirectoryWatcher watcher;

    private SystemInfoFile(Path file, SnapshotReloader<Optional<SystemInfo>> reloader, DirectoryWatcher watcher) {
        this.file = file;
        this.reloader = reloader;
        this.watcher = watcher;
    }

    /** Reads {@code file} now and, if {@code settings.watch()}, whenever it changes. */
    public static SystemInfoFile open(Path file, PolicyService.ReloadSettings settings) throws IOException {
        Objects.requireNonNull(file, "file");
        Path absolute = file.toAbsolutePath();
        SnapshotReloader<Optional<SystemInfo>> reloader = SnapshotReloader.open("system info " + absolute,
                () -> Optional.of(read(absolute)), e -> Optional.empty());
        DirectoryWatcher watcher = null;
        if (settings.watch()) {
            try {
                watcher = DirectoryWatcher.start("system-info", List.of(absolute), settings.quietPeriod(),
                        settings.maxDelay(), reloader::reload);
            } catch (IOException | RuntimeException e) {
                reloader.close();
                throw e;
            }
        }
        return new SystemInfoFile(absolute, reloader, watcher);
    }

    /** Reads and parses a system info file once. */
    public static SystemInfo read(Path file) throws IOException {
        try {
            return SystemInfo.fromJson(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The system info in force.
     *
     * @throws SystemInfoUnavailableException if the file never loaded
     */
    @Override
    public SystemInfo get() {
        return reloader.current().orElseThrow(() -> new SystemInfoUnavailableException(
                "no system info: " + reloader.status().lastError()));
    }

    public SnapshotReloader.Status status() {
        return reloader.status();
    }

    public CompletableFuture<SnapshotReloader.Status> reloadNow() {
        return reloader.reload();
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
        reloader.close();
    }
}
