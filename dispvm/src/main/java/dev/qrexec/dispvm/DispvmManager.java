package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.event.EventHub;
import dev.qrexec.dispvm.preload.DisposableCleaner;
import dev.qrexec.dispvm.preload.MemoryBalancer;
import dev.qrexec.dispvm.preload.PreloadEngine;
import dev.qrexec.dispvm.preload.PreloadHandle;
import dev.qrexec.dispvm.preload.PreloadSettings;
import dev.qrexec.dispvm.preload.PreloadStage;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.SystemInfo;
import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.dispvm.store.RegistryStore;
import dev.qrexec.dispvm.store.StoreWriter;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeState;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The disposable manager: the registry (persisted), the preload engine and the hypervisor, behind the
 * {@link Disposables} and {@link QubeAdmin} APIs and the {@link #systemInfo()} view.
 *
 * <p>Threads: {@code dispvm-engine-N} (a 2-thread scheduled pool) runs the engine, hypervisor event
 * handling and every continuation; {@code dispvm-store-writer} writes the store; {@code dispvm-events}
 * delivers events to listeners. Registry state is immutable and swapped under a lock held for no I/O.
 */
public final class DispvmManager implements Disposables, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DispvmManager.class.getName());

    private final Hypervisor hypervisor;
    private final QubeRegistry registry;
    private final RegistryStore store;
    private final StoreWriter writer;
    private final PreloadEngine engine;
    private final DisposableCleaner cleaner;
    private final EventHub events;
    private final PreloadTimings timings;
    private final QubeSpecFactory specs;
    private final QubeReadiness readiness;
    private final ScheduledExecutorService executor;
    private final ScheduledExecutorService eventExecutor;
    private final AutoCloseable subscription;
    private final AdminOperations admin;
    private volatile boolean closed;

    private DispvmManager(Builder b) {
        this.hypervisor = b.hypervisor;
        this.timings = b.timings;
        this.specs = b.specs;
        this.readiness = b.readiness;
        this.executor = pool("dispvm-engine", 2);
        this.eventExecutor = pool("dispvm-events", 1);
        this.events = new EventHub(b.eventQueueCapacity, eventExecutor);
        if (b.storeDir != null) {
            this.store = RegistryStore.open(b.storeDir);
            RegistryState loaded;
            try {
                loaded = store.load();
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            this.writer = new StoreWriter(store);
            this.registry = new QubeRegistry(loaded, writer);
        } else {
            this.store = null;
            this.writer = null;
            this.registry = new QubeRegistry(RegistryState.initial(), null);
        }
        java.util.function.LongSupplier clock = System::currentTimeMillis;
        this.cleaner = new DisposableCleaner(registry, hypervisor, executor, clock);
        MemoryBalancer balancer = new MemoryBalancer(hypervisor, b.releaser, b.memoryLimits, executor);
        this.engine = new PreloadEngine(registry, hypervisor, specs, readiness, balancer, cleaner, events, timings,
                executor, clock);
        this.admin = new AdminOperations(this);
        for (String q : hypervisor.list()) {
            registry.powerChanged(q, power(hypervisor.state(q)));
        }
        this.subscription = hypervisor.subscribe(e -> executor.execute(() -> onLifecycle(e)));
        engine.recover();
    }

    public static Builder builder(Hypervisor hypervisor) {
        return new Builder(hypervisor);
    }

    // ------------------------------------------------------------- accessors used by AdminOperations

    QubeRegistry registry() {
        return registry;
    }

    PreloadEngine engine() {
        return engine;
    }

    Hypervisor hypervisor() {
        return hypervisor;
    }

    EventHub events() {
        return events;
    }

    PreloadTimings timings() {
        return timings;
    }

    DisposableCleaner cleaner() {
        return cleaner;
    }

    ScheduledExecutorService executor() {
        return executor;
    }

    dev.qrexec.xen.QubeSpec specFor(RegistryState s, Qube q) {
        return specs.specFor(s, q);
    }

    /** The management operations (admin socket). */
    public QubeAdmin admin() {
        return admin;
    }

    /** The {@code internal.GetSystemInfo} view with its version. */
    public SystemInfo systemInfo() {
        return registry.systemInfo();
    }

    /** The registry's current state (read-only snapshot). */
    public RegistryState snapshot() {
        return registry.snapshot();
    }

    // ------------------------------------------------------------- Disposables

    @Override
    public CompletableFuture<Disposable> obtain(String dvmTemplate, String caller) {
        long t0 = System.nanoTime();
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("disposable manager is closed"));
        }
        RegistryState s = registry.snapshot();
        if (s.find(caller).isEmpty()) {
            return CompletableFuture.failedFuture(new RegistryException.NoSuchQube(caller));
        }
        if (!s.isDispvmTemplate(dvmTemplate)) {
            return CompletableFuture.failedFuture(new RegistryException.InvalidValue("'" + dvmTemplate
                    + "' is not a disposable template"));
        }
        engine.onRequest(dvmTemplate);
        Optional<PreloadHandle> claimed = engine.claim(dvmTemplate);
        Duration qrexecTimeout = Duration.ofSeconds(Long.parseLong(
                s.property(s.get(dvmTemplate), PropertyRules.QREXEC_TIMEOUT)));
        CompletableFuture<Disposable> out = new CompletableFuture<>();
        if (claimed.isPresent()) {
            PreloadHandle h = claimed.get();
            Duration wait = Duration.ofMillis((long) (qrexecTimeout.toMillis() * timings.claimWaitFactor()));
            // Delivered on the engine's thread that ran the use step (no further hop); a cold start blocks, so
            // the fallback goes back to the executor.
            engine.deliver(h, wait, caller).whenComplete((v, e) -> {
                if (e == null) {
                    finishDelivery(h.name(), dvmTemplate, caller, true, t0, out);
                } else {
                    executor.execute(() -> {
                        LOG.log(System.Logger.Level.INFO, "falling back to a cold disposable of {0}: {1}", dvmTemplate,
                                e.toString());
                        cold(dvmTemplate, caller, qrexecTimeout, t0, out);
                    });
                }
            });
        } else {
            executor.execute(() -> cold(dvmTemplate, caller, qrexecTimeout, t0, out));
        }
        return out;
    }

    @Override
    public CompletableFuture<Disposable> obtainDefault(String caller) {
        RegistryState s = registry.snapshot();
        Optional<Qube> q = s.find(caller);
        if (q.isEmpty()) {
            return CompletableFuture.failedFuture(new RegistryException.NoSuchQube(caller));
        }
        String t = s.property(q.get(), PropertyRules.DEFAULT_DISPVM);
        if (t.isEmpty()) {
            return CompletableFuture.failedFuture(new RegistryException.InvalidValue(caller + " has no default_dispvm"));
        }
        return obtain(t, caller);
    }

    private void cold(String template, String caller, Duration timeout, long t0, CompletableFuture<Disposable> out) {
        String name;
        try {
            Mutations.Created[] c = new Mutations.Created[1];
            registry.update(s -> {
                c[0] = Mutations.createDisposable(s, template, Optional.empty(), System.currentTimeMillis(),
                        java.util.Map.of());
                Qube q = c[0].state().get(c[0].name()).withTag("created-by-" + caller)
                        .withTag("disp-created-by-" + caller);
                return c[0].state().with(q);
            }).awaitDurable();
            name = c[0].name();
        } catch (RuntimeException e) {
            out.completeExceptionally(e);
            return;
        }
        RegistryState s = registry.snapshot();
        hypervisor.define(specs.specFor(s, s.get(name)))
                .thenCompose(v -> hypervisor.start(name))
                .thenCompose(v -> readiness.awaitOperational(name, timeout).orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .whenCompleteAsync((v, e) -> {
                    if (e == null) {
                        finishDelivery(name, template, caller, false, t0, out);
                        return;
                    }
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    LOG.log(System.Logger.Level.WARNING, "cold disposable {0} of {1} failed: {2}", name, template,
                            cause.toString());
                    cleaner.cleanup(name, "cold start failed", null, timings.killGrace(), true)
                            .whenComplete((x, e2) -> out.completeExceptionally(cause));
                }, executor);
    }

    private void finishDelivery(String name, String template, String caller, boolean preloaded, long t0,
                                CompletableFuture<Disposable> out) {
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        Optional<Qube> q = registry.snapshot().find(name);
        if (q.isEmpty()) {
            out.completeExceptionally(new RegistryException.NoSuchQube(name + " vanished before delivery"));
            return;
        }
        events.publish(DispvmEvent.of(DispvmEvent.Kind.DISPOSABLE_DELIVERED, name, template,
                (preloaded ? "preloaded" : "cold") + " for " + caller + " in " + took.toMillis() + " ms"));
        out.complete(new Disposable(name, q.get().domainId(), template, caller, preloaded, took));
    }

    @Override
    public CompletableFuture<Void> release(String disposable) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("disposable manager is closed"));
        }
        Optional<Qube> q = registry.snapshot().find(disposable);
        if (q.isEmpty() || q.get().klass() != QubeClass.DISP_VM) {
            return CompletableFuture.failedFuture(new RegistryException.InvalidValue(disposable + " is not a disposable"));
        }
        if (engine.isPreload(disposable)) {
            return CompletableFuture.failedFuture(new RegistryException.NotAllowed(disposable
                    + " is a preload nobody obtained; it cannot be released"));
        }
        String template = q.get().properties().getOrDefault(PropertyRules.TEMPLATE, "");
        return cleaner.cleanup(disposable, "released", null, timings.killGrace(), false)
                .thenRun(() -> events.publish(DispvmEvent.of(DispvmEvent.Kind.DISPOSABLE_RELEASED, disposable,
                        template, "")));
    }

    @Override
    public QueueStatus queueStatus(String dvmTemplate) {
        RegistryState s = registry.snapshot();
        s.get(dvmTemplate);
        List<String> queue = s.preloadList(dvmTemplate);
        List<String> ready = new ArrayList<>();
        List<String> preloading = new ArrayList<>();
        for (String n : queue) {
            PreloadStage st = engine.handle(n).map(PreloadHandle::stage).orElse(PreloadStage.DISCARDED);
            (st == PreloadStage.READY ? ready : preloading).add(n);
        }
        List<String> claimed = engine.handles().stream()
                .filter(h -> h.template().equals(dvmTemplate) && h.stage() == PreloadStage.CLAIMED)
                .map(PreloadHandle::name).sorted().toList();
        return new QueueStatus(dvmTemplate, PreloadSettings.effectiveMax(s, dvmTemplate),
                PreloadSettings.globalApplies(s, dvmTemplate), queue, ready, preloading, claimed);
    }

    @Override
    public List<QueueStatus> queueStatus() {
        RegistryState s = registry.snapshot();
        return s.qubes().keySet().stream().filter(s::isDispvmTemplate).map(this::queueStatus).toList();
    }

    @Override
    public AutoCloseable subscribe(Consumer<DispvmEvent> listener) {
        return events.subscribe(listener);
    }

    /** Host about to sleep (Qubes' internal.SuspendPre): trims every queue to 0. */
    public void hostSuspending() {
        RegistryState s = registry.snapshot();
        s.qubes().keySet().stream().filter(s::isDispvmTemplate)
                .forEach(t -> engine.trim(t, 0, "host suspend"));
    }

    /** Host woke up (internal.SuspendPost): refills every preload-enabled template. */
    public void hostResumed() {
        RegistryState s = registry.snapshot();
        PreloadSettings.preloadEnabled(s).forEach(t -> engine.scheduleRefill(t, "host resumed", Duration.ZERO));
    }

    // ------------------------------------------------------------- hypervisor events

    private void onLifecycle(LifecycleEvent e) {
        String q = e.qube();
        try {
            registry.powerChanged(q, power(hypervisor.list().contains(q) ? hypervisor.state(q) : QubeState.HALTED));
        } catch (RuntimeException ex) {
            registry.powerChanged(q, "Halted");
        }
        engine.onLifecycle(e);
        if (e.kind() != LifecycleEvent.Kind.HALTED && e.kind() != LifecycleEvent.Kind.DIED) {
            return;
        }
        RegistryState s = registry.snapshot();
        Optional<Qube> qube = s.find(q);
        if (qube.isEmpty()) {
            return;
        }
        switch (qube.get().klass()) {
            case DISP_VM -> {
                // A disposable that stopped by itself (or was killed from outside) is cleaned up like Qubes'
                // auto_cleanup on domain-shutdown; a named one just loses its storage (undefine).
                if (!engine.isPreload(q) && !cleaner.cleaning(q)) {
                    cleaner.cleanup(q, "it stopped: " + e.reason(), null, timings.killGrace(), false);
                }
            }
            case TEMPLATE_VM, APP_VM, STANDALONE_VM -> admin.storageMayHaveChanged(q);
            default -> { }
        }
    }

    static String power(QubeState st) {
        return switch (st) {
            case RUNNING -> "Running";
            case PAUSED -> "Paused";
            case HALTED -> "Halted";
            case STARTING, STOPPING -> "Transient";
            case CRASHED -> "Crashed";
        };
    }

    /** Stops the manager's threads and flushes the store. Does not stop qubes (a restart finds them). */
    @Override
    public void close() {
        closed = true;
        try {
            subscription.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "unsubscribing from the hypervisor", e);
        }
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        eventExecutor.shutdown();
        if (writer != null) {
            writer.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static ScheduledExecutorService pool(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory f = r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor p = new ScheduledThreadPoolExecutor(threads, f);
        p.setRemoveOnCancelPolicy(true);
        p.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return p;
    }

    /** Builds a manager; validates every setting with a message that names it. */
    public static final class Builder {
        private final Hypervisor hypervisor;
        private Path storeDir;
        private QubeSpecFactory specs = QubeSpecFactory.simple();
        private QubeReadiness readiness = QubeReadiness.immediate();
        private MemoryReleaser releaser = MemoryReleaser.none();
        private PreloadTimings timings = PreloadTimings.qubesDefaults();
        private MemoryBalancer.Limits memoryLimits = MemoryBalancer.Limits.qubesDefaults();
        private int eventQueueCapacity = 1024;

        private Builder(Hypervisor hypervisor) {
            this.hypervisor = Objects.requireNonNull(hypervisor, "hypervisor");
        }

        /** Where the registry is persisted; without it the registry lives in memory only. */
        public Builder storeDir(Path dir) {
            this.storeDir = Objects.requireNonNull(dir, "storeDir");
            return this;
        }

        public Builder specFactory(QubeSpecFactory f) {
            this.specs = Objects.requireNonNull(f, "specFactory");
            return this;
        }

        public Builder readiness(QubeReadiness r) {
            this.readiness = Objects.requireNonNull(r, "readiness");
            return this;
        }

        public Builder memoryReleaser(MemoryReleaser r) {
            this.releaser = Objects.requireNonNull(r, "memoryReleaser");
            return this;
        }

        public Builder timings(PreloadTimings t) {
            this.timings = Objects.requireNonNull(t, "timings");
            return this;
        }

        public Builder memoryLimits(MemoryBalancer.Limits l) {
            this.memoryLimits = Objects.requireNonNull(l, "memoryLimits");
            return this;
        }

        public Builder eventQueueCapacity(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("eventQueueCapacity must be at least 1, was " + capacity);
            }
            this.eventQueueCapacity = capacity;
            return this;
        }

        /** Opens the store (locking it), loads it, recovers preloads and starts refilling. */
        public DispvmManager build() {
            return new DispvmManager(this);
        }
    }
}
