package dev.qrexec.policy.reload;

import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Holds the current value of something loaded from files (a policy, a system info) and replaces it
 * atomically when a reload succeeds.
 *
 * <p>A failed reload keeps the last good value in force and records the error; a failed first load
 * installs the fallback value (for a policy: one that denies everything, as Qubes does).
 *
 * <p>Threads: loads run on one dedicated thread, {@code qrexec-reload-<name>}, so they never touch a
 * request path and never overlap. {@link #reload()} coalesces: while a reload is queued, further
 * calls join it, so the executor's queue never holds more than one task. Readers call
 * {@link #current()} from any thread; it is one volatile read.
 *
 * @param <T> the loaded value, immutable
 */
public final class SnapshotReloader<T> implements AutoCloseable {

    /** Loads a fresh value; the exception's message is what the status reports (ideally {@code file:line: text}). */
    @FunctionalInterface
    public interface Loader<T> {
        T load() throws Exception;
    }

    /**
     * A value in force.
     *
     * @param value      the value
     * @param generation 1 for the first successful load, +1 for each later one; 0 for the fallback
     * @param loadedAt   when it was installed
     */
    public record Snapshot<T>(T value, long generation, Instant loadedAt) {
    }

    /**
     * What the reloader knows, for status pages and tests.
     *
     * @param generation    generation in force (0: the fallback, nothing ever loaded)
     * @param loadedAt      when the value in force was installed
     * @param lastAttemptAt when the last load (successful or not) finished
     * @param lastError     the message of the last load's failure, or {@code null} if it succeeded
     * @param failures      failed loads since the value in force was installed
     */
    public record Status(long generation, Instant loadedAt, Instant lastAttemptAt, String lastError, int failures) {
        public boolean healthy() {
            return lastError == null;
        }
    }

    private static final System.Logger LOG = System.getLogger(SnapshotReloader.class.getName());

    private final String name;
    private final Loader<T> loader;
    private final Clock clock;
    private final ThreadPoolExecutor executor;
    private final AtomicReference<CompletableFuture<Status>> queued = new AtomicReference<>();
    // Written only by the reload thread (and the constructor); read by anyone.
    private volatile Snapshot<T> current;
    private volatile Status status;

    private SnapshotReloader(String name, Loader<T> loader, Clock clock) {
        this.name = name;
        this.loader = loader;
        this.clock = clock;
        // One thread, a queue of one: reload() coalesces, so a second queued task never exists.
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1), r -> {
            Thread t = new Thread(r, "qrexec-reload-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Loads the first value on the calling thread, then returns the reloader.
     *
     * @param name     what is loaded, for thread names and log lines (e.g. {@code policy})
     * @param loader   loads a value; may throw
     * @param fallback makes the value in force when the first load fails, from that failure
     *                 (for a policy: one that denies everything, with the error as reason)
     */
    public static <T> SnapshotReloader<T> open(String name, Loader<T> loader,
                                               Function<? super Exception, ? extends T> fallback) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(loader, "loader");
        Objects.requireNonNull(fallback, "fallback");
        SnapshotReloader<T> reloader = new SnapshotReloader<>(name, loader, Clock.systemUTC());
        Instant now = reloader.clock.instant();
        try {
            T first = Objects.requireNonNull(loader.load(), "loader returned null");
            reloader.current = new Snapshot<>(first, 1, now);
            reloader.status = new Status(1, now, now, null, 0);
            LOG.log(Level.INFO, "{0}: generation 1 in force", name);
        } catch (Exception | StackOverflowError e) {
            Exception failure = e instanceof Exception ex ? ex : new Exception(describe(e), e);
            reloader.current = new Snapshot<>(Objects.requireNonNull(fallback.apply(failure), "fallback"), 0, now);
            reloader.status = new Status(0, now, now, describe(e), 1);
            LOG.log(Level.ERROR, "{0}: load failed, the fallback is in force: {1}", name, describe(e));
        }
        return reloader;
    }

    /** The value in force. Never null. */
    public T current() {
        return current.value();
    }

    /** The value in force with its generation. */
    public Snapshot<T> snapshot() {
        return current;
    }

    public Status status() {
        return status;
    }

    /**
     * Reloads on the reload thread. Completes with the status after the load (successful or not);
     * completes exceptionally only if the reloader is closed.
     */
    public CompletableFuture<Status> reload() {
        while (true) {
            CompletableFuture<Status> pending = queued.get();
            if (pending != null) {
                return pending;
            }
            CompletableFuture<Status> mine = new CompletableFuture<>();
            if (queued.compareAndSet(null, mine)) {
                try {
                    executor.execute(() -> {
                        // Unqueue before loading, so a change made during this load queues another.
                        queued.compareAndSet(mine, null);
                        mine.complete(load());
                    });
                } catch (RejectedExecutionException e) {
                    queued.compareAndSet(mine, null);
                    mine.completeExceptionally(new IllegalStateException(name + " reloader is closed"));
                }
                return mine;
            }
        }
    }

    /** Runs one load and installs its result; on the reload thread. */
    private Status load() {
        Snapshot<T> before = current;
        T value;
        try {
            value = Objects.requireNonNull(loader.load(), "loader returned null");
        } catch (Exception | StackOverflowError e) {
            String message = describe(e);
            Status failed = new Status(before.generation(), before.loadedAt(), clock.instant(), message,
                    status.failures() + 1);
            status = failed;
            if (before.generation() == 0) {
                LOG.log(Level.ERROR, "{0}: reload failed, the fallback stays in force: {1}", name, message);
            } else {
                LOG.log(Level.ERROR, "{0}: reload failed, generation {1} stays in force: {2}",
                        name, before.generation(), message);
            }
            return failed;
        }
        Instant now = clock.instant();
        Snapshot<T> next = new Snapshot<>(value, before.generation() + 1, now);
        current = next;
        Status ok = new Status(next.generation(), now, now, null, 0);
        status = ok;
        LOG.log(Level.INFO, "{0}: generation {1} in force", name, next.generation());
        return ok;
    }

    private static String describe(Throwable e) {
        if (e instanceof StackOverflowError) {
            return "nesting too deep (include cycle?)";
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getName() : message;
    }

    /** Stops the reload thread; a load in progress is interrupted, a queued reload completes exceptionally. */
    @Override
    public void close() {
        executor.shutdownNow();
        CompletableFuture<Status> pending = queued.getAndSet(null);
        if (pending != null) {
            pending.completeExceptionally(new IllegalStateException(name + " reloader is closed"));
        }
    }
}
