package dev.qrexec.policy.reload;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Watches files and directory trees and calls back, debounced, when anything in them changes.
 *
 * <p>A watched directory is watched recursively (subdirectories created later included); a watched
 * file is watched through its parent directory. The parent of every target is watched too, so a
 * target that does not exist yet, or is deleted and re-created (an editor's rename, a package
 * upgrade), is picked up when it appears.
 *
 * <p>Debouncing: after the first event the watcher waits until no event has arrived for the quiet
 * period (but never longer than the maximum delay), then calls {@code onChange} once. A burst of
 * writes (a package installing ten files) therefore causes one reload, not ten.
 *
 * <p>Threads: one daemon thread, {@code qrexec-watch-<name>}, owns the {@link WatchService} and all
 * registration maps, and runs {@code onChange}; {@code onChange} must therefore be quick (it should
 * hand work to another thread). {@link #close()} may be called from any thread.
 */
public final class DirectoryWatcher implements Closeable {

    private static final System.Logger LOG = System.getLogger(DirectoryWatcher.class.getName());

    private final List<Path> targets;
    private final Duration quietPeriod;
    private final Duration maxDelay;
    private final Runnable onChange;
    private final WatchService service;
    private final Thread thread;
    // Owned by the watcher thread after start().
    private final Map<WatchKey, Path> directories = new HashMap<>();
    private final Map<Path, Set<Path>> interestingNamesByParent = new HashMap<>();
    private final Set<Path> treeRoots = new HashSet<>();
    private volatile boolean closed;

    private DirectoryWatcher(String name, List<Path> targets, Duration quietPeriod, Duration maxDelay,
                             Runnable onChange) throws IOException {
        this.targets = targets;
        this.quietPeriod = quietPeriod;
        this.maxDelay = maxDelay;
        this.onChange = onChange;
        this.service = FileSystems.getDefault().newWatchService();
        this.thread = new Thread(this::run, "qrexec-watch-" + name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts watching.
     *
     * @param name        for the thread's name and log lines
     * @param targets     files or directories, existing or not (absolute or relative to the working directory)
     * @param quietPeriod how long no event must arrive before {@code onChange} runs
     * @param maxDelay    the longest {@code onChange} is postponed by a continuous stream of events
     * @param onChange    what to run after changes; runs on the watcher thread
     */
    public static DirectoryWatcher start(String name, List<Path> targets, Duration quietPeriod, Duration maxDelay,
                                         Runnable onChange) throws IOException {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(onChange, "onChange");
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("nothing to watch: targets is empty");
        }
        if (quietPeriod.isNegative() || quietPeriod.isZero()) {
            throw new IllegalArgumentException("quietPeriod must be positive, was " + quietPeriod);
        }
        if (maxDelay.compareTo(quietPeriod) < 0) {
            throw new IllegalArgumentException("maxDelay (" + maxDelay + ") must not be shorter than quietPeriod ("
                    + quietPeriod + ")");
        }
        List<Path> absolute = targets.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        DirectoryWatcher watcher = new DirectoryWatcher(name, absolute, quietPeriod, maxDelay, onChange);
        try {
            watcher.registerAll();
        } catch (IOException | RuntimeException e) {
            watcher.service.close();
            throw e;
        }
        watcher.thread.start();
        return watcher;
    }

    private void registerAll() throws IOException {
        for (Path target : targets) {
            Path parent = target.getParent();
            if (parent != null) {
                interestingNamesByParent.computeIfAbsent(parent, p -> new HashSet<>()).add(target.getFileName());
                registerOne(parent);
            }
            if (Files.isDirectory(target)) {
                treeRoots.add(target);
                registerTree(target);
            }
        }
    }

    private void registerOne(Path dir) {
        if (!Files.isDirectory(dir)) {
            LOG.log(Level.DEBUG, "watch: {0} does not exist (yet); not watched", dir);
            return;
        }
        try {
            WatchKey key = dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
            directories.put(key, dir);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "watch: cannot watch " + dir + "; its changes need a manual reload", e);
        }
    }

    private void registerTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    registerOne(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    LOG.log(Level.WARNING, "watch: cannot read " + file, e);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.log(Level.WARNING, "watch: cannot walk " + root, e);
        }
    }

    private void run() {
        try {
            while (!closed) {
                WatchKey first = service.take();
                boolean relevant = handle(first);
                long deadline = System.nanoTime() + maxDelay.toNanos();
                // Debounce: keep draining until quiet, or until the maximum delay has passed.
                while (!closed) {
                    long left = Math.min(quietPeriod.toNanos(), deadline - System.nanoTime());
                    if (left <= 0) {
                        break;
                    }
                    WatchKey next = service.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) {
                        break;
                    }
                    relevant |= handle(next);
                }
                if (relevant && !closed) {
                    runCallback();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // close() was called.
        }
    }

    /** Processes one key's events; true if any of them concerns a watched target. */
    private boolean handle(WatchKey key) {
        Path dir = directories.get(key);
        boolean relevant = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == OVERFLOW) {
                // Events were lost: re-register everything so that new subdirectories are not missed.
                relevant = true;
                treeRoots.forEach(this::registerTree);
                continue;
            }
            if (dir == null) {
                continue;
            }
            Path child = dir.resolve((Path) event.context());
            boolean inTree = treeRoots.stream().anyMatch(dir::startsWith);
            Set<Path> names = interestingNamesByParent.get(dir);
            boolean isTarget = names != null && names.contains(child.getFileName());
            if (event.kind() == ENTRY_CREATE && Files.isDirectory(child) && (inTree || isTarget)) {
                // A new subdirectory, or a watched directory (re-)created: watch its whole tree.
                if (isTarget) {
                    treeRoots.add(child);
                }
                registerTree(child);
            }
            relevant |= inTree || isTarget;
        }
        if (!key.reset()) {
            directories.remove(key);
        }
        return relevant;
    }

    private void runCallback() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "watch: change callback failed", e);
        }
    }

    /** The paths being watched. */
    public List<Path> targets() {
        return targets;
    }

    /** Stops the watcher thread and releases the watch service. Idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            service.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "watch: closing the watch service failed", e);
        }
        thread.interrupt();
    }
}
