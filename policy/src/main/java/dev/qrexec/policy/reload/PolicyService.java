package dev.qrexec.policy.reload;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The policy in force, kept up to date with its files: what the policy daemon and the broker
 * evaluate against.
 *
 * <p>Loading happens off the request path: a {@link DirectoryWatcher} notices changes in the policy
 * directories (recursively, {@code include/} too) and in the legacy {@code !compat-4.0} directory,
 * waits for the writes to settle, then the whole policy is loaded and validated on the reload
 * thread and swapped in atomically. Requests keep using the previous policy until then, and
 * {@link #current()} is one volatile read.
 *
 * <p>Failure: a policy that cannot be loaded at start-up denies everything, as in Qubes; a reload
 * that fails keeps the last good policy in force and reports the error in the log (with
 * {@code file:line}) and in {@link #status()}. (The reference denies everything after a failed
 * reload instead; keeping the last good policy means a half-saved edit cannot lock the system.)
 *
 * <pre>{@code
 * try (PolicyService policy = PolicyService.open(PolicyLocation.system())) {
 *     Decision d = policy.current().evaluate(request, systemInfo);
 * }
 * }</pre>
 */
public final class PolicyService implements Supplier<Policy>, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PolicyService.class.getName());

    /**
     * How a service follows its files.
     *
     * @param watch       whether to watch the directories (false: only {@link #reloadNow()} reloads)
     * @param quietPeriod how long the files must be left alone before a reload starts
     * @param maxDelay    the longest a stream of changes may postpone a reload
     */
    public record ReloadSettings(boolean watch, Duration quietPeriod, Duration maxDelay) {
        public ReloadSettings {
            Objects.requireNonNull(quietPeriod, "quietPeriod");
            Objects.requireNonNull(maxDelay, "maxDelay");
            if (quietPeriod.isNegative() || quietPeriod.isZero()) {
                throw new IllegalArgumentException("quietPeriod must be positive, was " + quietPeriod);
            }
            if (maxDelay.compareTo(quietPeriod) < 0) {
                throw new IllegalArgumentException("maxDelay (" + maxDelay + ") must not be shorter than quietPeriod ("
                        + quietPeriod + ")");
            }
        }

        /** Watch, reload 200 ms after the last change, at most 2 s after the first. */
        public static ReloadSettings defaults() {
            return new ReloadSettings(true, Duration.ofMillis(200), Duration.ofSeconds(2));
        }

        /** Never reload by itself. */
        public static ReloadSettings manual() {
            return new ReloadSettings(false, Duration.ofMillis(200), Duration.ofSeconds(2));
        }
    }

    private final PolicyLocation location;
    private final SnapshotReloader<Policy> reloader;
    private final DirectoryWatcher watcher;

    private PolicyService(PolicyLocation location, SnapshotReloader<Policy> reloader, DirectoryWatcher watcher) {
        this.location = location;
        this.reloader = reloader;
        this.watcher = watcher;
    }

    /** Loads the policy of {@code location} and follows its changes with the default settings. */
    public static PolicyService open(PolicyLocation location) throws IOException {
        return open(location, ReloadSettings.defaults());
    }

    /**
     * Loads the policy of {@code location} (on the calling thread) and, if the settings say so,
     * starts watching it. A load failure does not throw: the service then denies everything.
     *
     * @throws IOException if the directories cannot be watched
     */
    public static PolicyService open(PolicyLocation location, ReloadSettings settings) throws IOException {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(settings, "settings");
        SnapshotReloader<Policy> reloader = SnapshotReloader.open("policy", () -> PolicyLoader.load(location),
                PolicyService::denyAll);
        DirectoryWatcher watcher = null;
        if (settings.watch()) {
            List<Path> targets = new ArrayList<>(location.directories());
            targets.add(location.legacyDirectory());
            try {
                watcher = DirectoryWatcher.start("policy", targets, settings.quietPeriod(), settings.maxDelay(),
                        reloader::reload);
            } catch (IOException | RuntimeException e) {
                reloader.close();
                throw e;
            }
        }
        PolicyService service = new PolicyService(location, reloader, watcher);
        LOG.log(Level.INFO, "policy {0}: {1}", location.directories(), service.status().summary());
        return service;
    }

    private static Policy denyAll(Exception failure) {
        return Policy.denyAll(failure instanceof PolicyLoadException e ? e
                : new PolicyLoadException(null, 0, "cannot load policy: " + failure.getMessage(), failure));
    }

    /** The policy in force (never null; one that denies everything if none ever loaded). */
    public Policy current() {
        return reloader.current();
    }

    /** Same as {@link #current()}, so the service can be handed out as a {@code Supplier<Policy>}. */
    @Override
    public Policy get() {
        return reloader.current();
    }

    public PolicyStatus status() {
        SnapshotReloader.Status s = reloader.status();
        SnapshotReloader.Snapshot<Policy> snapshot = reloader.snapshot();
        int rules = snapshot.generation() == 0 ? 0 : snapshot.value().rules().size();
        return new PolicyStatus(s.generation(), s.loadedAt(), rules, s.lastAttemptAt(), s.lastError(), s.failures(),
                location.directories());
    }

    /**
     * Reloads now, without waiting for the watcher; completes with the status after the load (the
     * load runs on the reload thread, never on the caller's).
     */
    public CompletableFuture<PolicyStatus> reloadNow() {
        return reloader.reload().thenApply(s -> status());
    }

    public PolicyLocation location() {
        return location;
    }

    /** Stops watching and reloading; {@link #current()} keeps answering with the last policy. */
    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
        reloader.close();
    }
}
