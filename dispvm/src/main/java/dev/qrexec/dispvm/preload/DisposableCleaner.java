package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.DispIds;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Tears a disposable down: kill it, undefine it (its storage goes with it), then drop it from its
 * template's queue and, if {@code auto_cleanup} (or forced), from the registry, recording its dispid
 * as recently used. Idempotent and de-duplicated: concurrent cleanups of one qube share one future.
 *
 * <p>Threads: runs on the engine executor; no lock is held across hypervisor calls.
 */
public final class DisposableCleaner {

    private static final System.Logger LOG = System.getLogger(DisposableCleaner.class.getName());

    private final QubeRegistry registry;
    private final Hypervisor hypervisor;
    private final Executor executor;
    private final LongSupplier clock;
    private final Map<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    public DisposableCleaner(QubeRegistry registry, Hypervisor hypervisor, Executor executor, LongSupplier clock) {
        this.registry = registry;
        this.hypervisor = hypervisor;
        this.executor = executor;
        this.clock = clock;
    }

    /**
     * Cleans {@code name} up once {@code settle} (the operation in flight on it) has ended or
     * {@code grace} has passed. {@code removeFromRegistry}: remove even a named disposable (false keeps
     * a named one's definition).
     */
    public CompletableFuture<Void> cleanup(String name, String reason, CompletableFuture<?> settle, Duration grace,
                                           boolean removeFromRegistry) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> existing = inFlight.putIfAbsent(name, mine);
        if (existing != null) {
            return existing;
        }
        LOG.log(System.Logger.Level.DEBUG, "cleaning up {0}: {1}", name, reason);
        CompletableFuture<?> wait = settle == null ? CompletableFuture.completedFuture(null)
                : settle.handle((v, e) -> null).completeOnTimeout(null, grace.toMillis(), TimeUnit.MILLISECONDS);
        wait.thenComposeAsync(v -> stopAndUndefine(name), executor)
                .thenRunAsync(() -> forget(name, removeFromRegistry), executor)
                .whenComplete((v, e) -> {
                    inFlight.remove(name, mine);
                    if (e != null) {
                        LOG.log(System.Logger.Level.WARNING, "cleanup of " + name + " failed", e);
                        mine.completeExceptionally(e instanceof CompletionException c && c.getCause() != null
                                ? c.getCause() : e);
                    } else {
                        mine.complete(null);
                    }
                });
        return mine;
    }

    /** Whether a cleanup of {@code name} is under way. */
    public boolean cleaning(String name) {
        return inFlight.containsKey(name);
    }

    public int inFlight() {
        return inFlight.size();
    }

    private CompletableFuture<Void> stopAndUndefine(String name) {
        if (!hypervisor.list().contains(name)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> kill;
        try {
            kill = hypervisor.state(name) == QubeState.HALTED ? CompletableFuture.completedFuture(null)
                    : hypervisor.kill(name);
        } catch (HypervisorException.NoSuchQube e) {
            return CompletableFuture.completedFuture(null);
        }
        return kill.handle((v, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.DEBUG, "kill {0}: {1}", name, e.toString());
                    }
                    return null;
                })
                .thenCompose(v -> undefine(name, UNDEFINE_ATTEMPTS));
    }

    private static final int UNDEFINE_ATTEMPTS = 50;

    /**
     * Undefines {@code name}; a qube still settling after a crash or kill (not yet HALTED) is retried
     * every 100 ms for up to 5 s, so a cleanup racing a crash does not leave it behind.
     */
    private CompletableFuture<Void> undefine(String name, int attemptsLeft) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        hypervisor.undefine(name).whenComplete((v, e) -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c == null || c instanceof HypervisorException.NoSuchQube) {
                out.complete(null);
            } else if (c instanceof HypervisorException.InvalidState && attemptsLeft > 1) {
                CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS, executor).execute(() ->
                        undefine(name, attemptsLeft - 1).whenComplete((x, e2) -> {
                            if (e2 != null) {
                                out.completeExceptionally(e2);
                            } else {
                                out.complete(null);
                            }
                        }));
            } else {
                out.completeExceptionally(c);
            }
        });
        return out;
    }

    private void forget(String name, boolean removeFromRegistry) {
        registry.update(s -> forgetIn(s, name, removeFromRegistry, clock.getAsLong())).awaitDurable();
    }

    /** The state without {@code name} in any queue and, if it auto-cleans (or forced), without it at all. */
    static RegistryState forgetIn(RegistryState s, String name, boolean force, long nowMillis) {
        var q = s.find(name);
        if (q.isEmpty()) {
            return s;
        }
        RegistryState next = s.withoutPreload(name);
        boolean auto = PropertyRules.TRUE.equals(s.property(q.get(), PropertyRules.AUTO_CLEANUP));
        if (q.get().klass() == QubeClass.DISP_VM && (auto || force)) {
            next = next.without(name);
            String dispid = q.get().properties().get(PropertyRules.DISPID);
            if (dispid != null) {
                next = DispIds.release(next, Integer.parseInt(dispid), nowMillis, DispIds.REUSE_WINDOW);
            }
        } else if (q.get().klass() == QubeClass.DISP_VM) {
            // A named disposable stays defined but carries no preload markers into its next life.
            var d = next.get(name).withoutFeature(Features.PRELOAD_IN_PROGRESS)
                    .withoutFeature(Features.PRELOAD_COMPLETED).withoutFeature(Features.DEFERRED_NETVM_ORIGINAL);
            next = next.with(d);
        }
        return next;
    }
}
