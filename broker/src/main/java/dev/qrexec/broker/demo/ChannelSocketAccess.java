package dev.qrexec.broker.demo;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;

/**
 * Lets a sandboxed qube connect to the sockets the broker listens on in the qube's channel
 * directory ({@code vchan.0.<domid>.<port>.sock}, where the target's agent connects its data
 * channel).
 *
 * <p>Why: the broker runs as root and binds those sockets with the process umask (0022), so the
 * socket file is {@code rwxr-xr-x root}; the qube runs as its own uid, and connecting to a Unix
 * socket needs write permission on it. A default ACL on the directory does not help, because
 * af_unix applies the umask itself before the ACL is inherited. Until the broker sets the mode of
 * its listeners (reported to its owner), this watcher makes each new {@code vchan.0.*} socket
 * {@code rw-rw-rw-}. That opens it to nobody else: the directory is {@code rwx------}, owned by the
 * qube. The agent retries a refused connect every few milliseconds, so the call just proceeds.
 *
 * <p>Thread: one daemon thread, {@code qrexec-channel-access}, blocks on the watch service; it
 * holds no lock and touches only file modes.
 */
final class ChannelSocketAccess implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ChannelSocketAccess.class.getName());
    private static final Pattern BROKER_LISTENER = Pattern.compile("vchan\\.0\\.\\d+\\.\\d+\\.sock");

    private final WatchService watcher;
    private final Thread thread;

    ChannelSocketAccess() throws IOException {
        this.watcher = FileSystems.getDefault().newWatchService();
        this.thread = new Thread(this::run, "qrexec-channel-access");
        thread.setDaemon(true);
        thread.start();
    }

    /** Watches a qube's channel directory (idempotent: the watch service keeps one key per directory). */
    void watch(Path channelDir) throws IOException {
        channelDir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                Path dir = (Path) key.watchable();
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                        sweep(dir);
                    } else if (event.context() instanceof Path name && BROKER_LISTENER.matcher(name.toString()).matches()) {
                        open(dir.resolve(name));
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** After lost events: every broker listener present gets its mode. */
    private void sweep(Path dir) {
        try (var files = Files.list(dir)) {
            files.filter(p -> BROKER_LISTENER.matcher(p.getFileName().toString()).matches()).forEach(this::open);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot list " + dir + ": " + e.getMessage());
        }
    }

    private void open(Path socket) {
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (NoSuchFileException gone) {
            // the call ended already
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot open " + socket + " to its qube: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing the watch service: " + e.getMessage());
        }
        thread.interrupt();
    }
}
