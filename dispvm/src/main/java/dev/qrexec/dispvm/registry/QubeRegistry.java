package dev.qrexec.dispvm.registry;

import dev.qrexec.dispvm.store.StoreWriter;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The registry: the current {@link RegistryState}, changed only through {@link #update}, plus the
 * runtime power state of each qube (not persisted) and the system-info view.
 *
 * <p>Threads: {@link #update} runs the change function under a lock that guards only the swap of the
 * state reference (the function must be pure: no I/O, no hypervisor call). Persisting happens
 * afterwards on the {@link StoreWriter} thread; the returned {@link Commit#durable()} completes when
 * the change is on disk. Reads ({@link #snapshot}) never lock. Change listeners run on the committing
 * thread, after the lock is released, and must not block.
 */
public final class QubeRegistry {

    private static final System.Logger LOG = System.getLogger(QubeRegistry.class.getName());

    /** A committed change: the state before and after, and when it is durable. */
    public record Commit(RegistryState before, RegistryState after, CompletableFuture<Void> durable) {
        public boolean changed() {
            return before != after;
        }

        /** Waits until the change is on disk; a store failure surfaces as {@link RegistryException}. */
        public RegistryState awaitDurable() {
            try {
                durable.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
            return after;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final StoreWriter writer;
    private volatile RegistryState state;
    private final Map<String, String> power = new ConcurrentHashMap<>();
    private final AtomicLong viewVersion = new AtomicLong();
    private final List<Consumer<Commit>> listeners = new CopyOnWriteArrayList<>();
    private final SystemInfoRenderer renderer = new SystemInfoRenderer();

    /** @param writer where commits go; {@code null} for a registry that is not persisted (tests, tools) */
    public QubeRegistry(RegistryState initial, StoreWriter writer) {
        this.state = Objects.requireNonNull(initial, "initial");
        this.writer = writer;
        power.put("dom0", "Running");
    }

    /** The current state: a consistent, immutable snapshot. */
    public RegistryState snapshot() {
        return state;
    }

    /**
     * Applies a change atomically. The function sees the current state and returns the new one (the
     * same instance for "no change"); it may throw {@link RegistryException} to refuse.
     */
    public Commit update(UnaryOperator<RegistryState> change) {
        return update(change, true);
    }

    /**
     * Like {@link #update(UnaryOperator)}; with {@code persistNow} false the change is not written by
     * itself but with the next persisted change (every write stores the whole latest state). For
     * changes whose loss in a crash is harmless, such as a claim: after a restart the claimed preload
     * is simply ready again. Its {@link Commit#durable()} is already complete and promises nothing.
     */
    public Commit update(UnaryOperator<RegistryState> change, boolean persistNow) {
        RegistryState before;
        RegistryState after;
        lock.lock();
        try {
            before = state;
            RegistryState proposed = change.apply(before);
            if (proposed == before) {
                return new Commit(before, before, CompletableFuture.completedFuture(null));
            }
            after = proposed.withGeneration(before.generation() + 1);
            state = after;
            viewVersion.incrementAndGet();
        } finally {
            lock.unlock();
        }
        CompletableFuture<Void> durable = writer == null || !persistNow ? CompletableFuture.completedFuture(null)
                : writer.persist(after);
        Commit commit = new Commit(before, after, durable);
        for (Consumer<Commit> l : listeners) {
            try {
                l.accept(commit);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "registry listener failed", e);
            }
        }
        return commit;
    }

    /** Called for every committed change, after the commit, on the committing thread. */
    public void addListener(Consumer<Commit> listener) {
        listeners.add(listener);
    }

    /** Records a runtime power state ({@code Running}, {@code Halted}, {@code Paused}, ...). */
    public void powerChanged(String qube, String powerState) {
        String old = powerState == null ? power.remove(qube) : power.put(qube, powerState);
        if (!Objects.equals(old, powerState)) {
            viewVersion.incrementAndGet();
        }
    }

    public String powerState(String qube) {
        return power.getOrDefault(qube, "Halted");
    }

    /**
     * The {@code internal.GetSystemInfo} view, with a version that grows whenever anything in it may
     * have changed, so callers can cache what they parse from it.
     */
    public SystemInfo systemInfo() {
        while (true) {
            long v = viewVersion.get();
            RegistryState s = state;
            SystemInfo cached = renderer.cached();
            if (cached != null && cached.version() == v) {
                return cached;
            }
            SystemInfo info = renderer.render(v, s, this::powerState);
            if (viewVersion.get() == v) {
                renderer.cache(info);
                return info;
            }
        }
    }
}
