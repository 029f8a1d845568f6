package dev.qrexec.dispvm.preload;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runtime companion of one preloaded disposable: its {@link PreloadStage} and the two one-shot
 * latches of spec 8. {@link #requested} completes when a caller claims it (it cuts the startup waits
 * and the ballooning short); {@link #complete} completes when preloading ends, normally or not: a
 * waiting caller learns of a failure at once.
 *
 * <p>Threads: the stage is an atomic reference changed only with {@link #advance} (compare-and-set
 * along the allowed transitions), so a claim and a discard racing each other cannot both win.
 */
public final class PreloadHandle {

    private final String name;
    private final String template;
    private final AtomicReference<PreloadStage> stage;
    private final CompletableFuture<Void> requested = new CompletableFuture<>();
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    /** The chain's view of the operation in flight; cancelling it stops the chain, not the operation. */
    private final AtomicReference<CompletableFuture<?>> step = new AtomicReference<>();
    /** The operation in flight itself (a hypervisor call), which a cleanup lets settle before killing. */
    private final AtomicReference<CompletableFuture<?>> operation =
            new AtomicReference<>(CompletableFuture.completedFuture(null));
    /** Set before the engine unpauses for a caller, so the UNPAUSED event is not taken as an outside use. */
    private volatile boolean unpausingForCaller;
    private final long createdNanos = System.nanoTime();

    PreloadHandle(String name, String template, PreloadStage initial) {
        this.name = name;
        this.template = template;
        this.stage = new AtomicReference<>(initial);
    }

    public String name() {
        return name;
    }

    public String template() {
        return template;
    }

    public PreloadStage stage() {
        return stage.get();
    }

    /** Moves from {@code from} to {@code to}; false if the stage was not {@code from}. */
    boolean advance(PreloadStage from, PreloadStage to) {
        return stage.compareAndSet(from, to);
    }

    /** Moves to {@code to} from any stage in which it is still a preload being created or ready. */
    boolean advanceFromCreating(PreloadStage to) {
        while (true) {
            PreloadStage cur = stage.get();
            if (cur == PreloadStage.CLAIMED || !cur.isPreload()) {
                return false;
            }
            if (stage.compareAndSet(cur, to)) {
                return true;
            }
        }
    }

    /** Claims it for a caller: from any creating stage or READY. False if it was discarded or used. */
    boolean claim() {
        if (advanceFromCreating(PreloadStage.CLAIMED)) {
            requested.complete(null);
            return true;
        }
        return false;
    }

    /** Discards it from any stage but USED. Returns false if it was already used or discarded. */
    boolean discard() {
        while (true) {
            PreloadStage cur = stage.get();
            if (!cur.isPreload()) {
                return false;
            }
            if (stage.compareAndSet(cur, PreloadStage.DISCARDED)) {
                CompletableFuture<?> s = step.get();
                if (s != null) {
                    s.cancel(false);
                }
                return true;
            }
        }
    }

    boolean isDiscarded() {
        return stage.get() == PreloadStage.DISCARDED;
    }

    boolean isRequested() {
        return requested.isDone();
    }

    CompletableFuture<Void> requested() {
        return requested;
    }

    /** Completes when preloading ended; exceptionally when it failed or was discarded. */
    public CompletableFuture<Void> complete() {
        return complete;
    }

    /**
     * Runs {@code work} (a hypervisor call) as the operation in flight, unless the preload is discarded,
     * and returns a view of it that a discard cancels: the chain stops at once while the operation
     * itself is left to finish, and a cleanup waits for it before killing.
     *
     * <p>The placeholder is published before the discard check, and {@link #discard} sets the stage
     * before reading it: whichever runs second sees the other, so a cleanup never misses a define
     * or start that is about to begin.
     */
    <T> CompletableFuture<T> run(java.util.function.Supplier<CompletableFuture<T>> work) {
        CompletableFuture<Void> placeholder = new CompletableFuture<>();
        operation.set(placeholder);
        if (isDiscarded()) {
            placeholder.complete(null);
            return CompletableFuture.failedFuture(new java.util.concurrent.CancellationException(name + " discarded"));
        }
        CompletableFuture<T> op;
        try {
            op = work.get();
        } catch (RuntimeException e) {
            placeholder.complete(null);
            return CompletableFuture.failedFuture(e);
        }
        op.whenComplete((v, e) -> placeholder.complete(null));
        CompletableFuture<T> view = op.thenApply(x -> x);
        step.set(view);
        if (isDiscarded()) {
            view.cancel(false);
        }
        return view;
    }

    /** The operation in flight (completed when there is none). */
    CompletableFuture<?> operation() {
        return operation.get();
    }

    boolean unpausingForCaller() {
        return unpausingForCaller;
    }

    void unpausingForCaller(boolean v) {
        unpausingForCaller = v;
    }

    long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    @Override
    public String toString() {
        return name + "(" + template + ", " + stage.get() + ")";
    }
}
