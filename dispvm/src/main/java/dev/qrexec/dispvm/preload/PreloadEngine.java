package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.event.EventHub;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * The preload engine (spec 2): keeps each disposable template's queue filled up to its effective
 * maximum, creates preloads through their stages, hands them out one caller each, trims, refreshes
 * and recovers.
 *
 * <p>Atomicity: the queue is the template's {@code preload-dispvm} feature in the registry. Reserving
 * a slot, claiming a preload and removing names are each one {@link QubeRegistry#update} (a short
 * lock around a pure function, never held across a hypervisor call), so two callers can never get
 * the same preload and a trim cannot kill a claimed one. The per-preload {@link PreloadHandle} stage
 * is a compare-and-set state machine on top.
 *
 * <p>Threads: all work runs on {@code executor} (a small scheduled pool the manager owns); hypervisor
 * futures are continued on it with {@code *Async}, never on the backend's threads. The handle map and
 * the pending-refill map are concurrent maps; nothing else is shared.
 */
public final class PreloadEngine {

    private static final System.Logger LOG = System.getLogger(PreloadEngine.class.getName());
    private static final long MIB = 1L << 20;

    private final QubeRegistry registry;
    private final Hypervisor hypervisor;
    private final QubeSpecFactory specs;
    private final QubeReadiness readiness;
    private final MemoryBalancer balancer;
    private final DisposableCleaner cleaner;
    private final EventHub events;
    private final PreloadTimings timings;
    private final ScheduledExecutorService executor;
    private final LongSupplier clock;
    private final Map<String, PreloadHandle> handles = new ConcurrentHashMap<>();
    private final PreloadCreator creator;
    private final DeferredNetwork network;
    /** template → nanoTime at which its earliest pending refill runs (coalesces refills: bounded). */
    private final Map<String, Long> refillDue = new ConcurrentHashMap<>();

    public PreloadEngine(QubeRegistry registry, Hypervisor hypervisor, QubeSpecFactory specs, QubeReadiness readiness,
                         MemoryBalancer balancer, DisposableCleaner cleaner, EventHub events, PreloadTimings timings,
                         ScheduledExecutorService executor, LongSupplier clock) {
        this.registry = registry;
        this.hypervisor = hypervisor;
        this.specs = specs;
        this.readiness = readiness;
        this.balancer = balancer;
        this.cleaner = cleaner;
        this.events = events;
        this.timings = timings;
        this.executor = executor;
        this.clock = clock;
        this.network = new DeferredNetwork(registry, hypervisor, readiness, events, timings.uplinkWait());
        this.creator = new PreloadCreator(registry, hypervisor, specs, readiness, balancer, events, executor, clock,
                handles, (name, why) -> discard(name, why, Duration.ZERO));
    }

    /** is_preload: in a queue, or claimed and not yet delivered. */
    public boolean isPreload(String qube) {
        PreloadHandle h = handles.get(qube);
        return h != null && h.stage().isPreload();
    }

    /** Network attachment and deferral (spec 2.10). */
    public DeferredNetwork network() {
        return network;
    }

    public Optional<PreloadHandle> handle(String qube) {
        return Optional.ofNullable(handles.get(qube));
    }

    public Collection<PreloadHandle> handles() {
        return List.copyOf(handles.values());
    }

    // ---------------------------------------------------------------- refill

    /** Fires the refill engine for {@code template} after {@code delay} (coalesced with an earlier one). */
    public void scheduleRefill(String template, String reason, Duration delay) {
        long due = System.nanoTime() + delay.toNanos();
        boolean[] mine = {false};
        refillDue.compute(template, (t, cur) -> {
            if (cur != null && cur <= due) {
                return cur;
            }
            mine[0] = true;
            return due;
        });
        if (!mine[0]) {
            return;
        }
        events.publish(DispvmEvent.of(DispvmEvent.Kind.REFILL_SCHEDULED, template, template,
                reason + ", in " + delay.toMillis() + " ms"));
        executor.schedule(() -> {
            refillDue.remove(template, due);
            try {
                refill(template, reason);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "refill of " + template + " failed", e);
            }
        }, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The refill engine (spec 2.2): trim excess, then start as many preloads as memory allows. */
    void refill(String template, String reason) {
        RegistryState s = registry.snapshot();
        if (!s.isDispvmTemplate(template)) {
            trim(template, 0, "not a disposable template any more");
            return;
        }
        int max = PreloadSettings.effectiveMax(s, template);
        List<String> list = s.preloadList(template);
        if (list.size() > max) {
            trim(template, max, "above maximum " + max);
            return;
        }
        int want = max - list.size();
        if (want <= 0) {
            return;
        }
        if (!PreloadSettings.supportsPreload(s, template)) {
            LOG.log(System.Logger.Level.WARNING, "not preloading {0}: it lacks qrexec or a readiness service", template);
            return;
        }
        long perQube = Long.parseLong(s.property(s.get(template), PropertyRules.MEMORY)) * MIB;
        // Preloads reserved but not started yet hold no host memory so far: count them as if they did.
        long reserved = 0;
        for (PreloadHandle h : handles.values()) {
            if (h.stage() == PreloadStage.RESERVED) {
                reserved += s.find(h.name()).map(q -> Long.parseLong(s.property(q, PropertyRules.MEMORY)) * MIB)
                        .orElse(0L);
            }
        }
        var host = hypervisor.hostMemory();
        int can = MemoryGate.fit(new dev.qrexec.xen.HostMemory(host.totalBytes(), host.freeBytes() - reserved),
                PreloadSettings.thresholdBytes(s), perQube, want);
        LOG.log(System.Logger.Level.DEBUG, "refill {0} ({1}): want {2}, memory allows {3}", template, reason, want, can);
        if (can < want) {
            events.publish(DispvmEvent.of(DispvmEvent.Kind.REFILL_LIMITED_BY_MEMORY, template, template,
                    "wanted " + want + ", memory allows " + can));
        }
        for (int i = 0; i < can; i++) {
            creator.create(template);
        }
    }

    /** Keeps the oldest {@code keep} names of the queue, discards the rest (in-flight creations too). */
    public void trim(String template, int keep, String reason) {
        List<String> dropped = new ArrayList<>();
        registry.update(s -> {
            if (s.find(template).isEmpty()) {
                return s;
            }
            List<String> list = s.preloadList(template);
            if (list.size() <= keep) {
                return s;
            }
            dropped.addAll(list.subList(keep, list.size()));
            return s.withPreloadList(template, list.subList(0, keep));
        });
        for (String name : dropped) {
            discard(name, "trimmed: " + reason, Duration.ZERO);
        }
    }

    /** Discards every outdated preload of {@code template}, then refills after {@code refillDelay}. */
    public void refreshOutdated(String template, Duration refillDelay, String reason) {
        List<String> dropped = new ArrayList<>();
        Map<String, String> reasons = new ConcurrentHashMap<>();
        registry.update(s -> {
            dropped.clear();
            if (!s.isDispvmTemplate(template)) {
                return s;
            }
            List<String> keep = new ArrayList<>();
            for (String n : s.preloadList(template)) {
                Optional<Qube> q = s.find(n);
                Optional<Outdated.Reason> why = q.flatMap(x -> Outdated.check(s, x));
                if (q.isPresent() && why.isEmpty()) {
                    keep.add(n);
                } else {
                    dropped.add(n);
                    reasons.put(n, why.map(Outdated.Reason::toString).orElse("gone"));
                }
            }
            return dropped.isEmpty() ? s : s.withPreloadList(template, keep);
        });
        for (String n : dropped) {
            discard(n, "outdated (" + reasons.get(n) + ") after " + reason, Duration.ZERO);
        }
        if (!dropped.isEmpty() || PreloadSettings.effectiveMax(registry.snapshot(), template) > 0) {
            scheduleRefill(template, "refresh: " + reason, refillDelay);
        }
    }

    // ---------------------------------------------------------------- claim and delivery

    /**
     * Schedules the refill a request triggers when the queue has a gap (spec 2.4 step 1): after
     * {@code max(requestRefillMin, delay)}, unless the delay is negative and the queue is not empty.
     */
    public void onRequest(String template) {
        RegistryState s = registry.snapshot();
        int max = PreloadSettings.effectiveMax(s, template);
        List<String> list = s.preloadList(template);
        if (list.size() >= max) {
            return;
        }
        double d = PreloadSettings.delaySeconds(s, template);
        if (d < 0 && !list.isEmpty()) {
            return;
        }
        Duration delay = PreloadSettings.toDuration(d);
        scheduleRefill(template, "request saw a gap",
                delay.compareTo(timings.requestRefillMin()) > 0 ? delay : timings.requestRefillMin());
    }

    /**
     * Claims the oldest ready preload of {@code template} that is not outdated, else the oldest one
     * still being created, in one registry change; outdated ones are dropped and cleaned later. Empty
     * when there is none. Qubes takes the oldest whatever its state, so a caller may wait for a boot
     * while a younger preload sits ready; a ready one is handed out at once.
     */
    public Optional<PreloadHandle> claim(String template) {
        String[] chosen = new String[1];
        List<String> outdated = new ArrayList<>();
        registry.update(s -> {
            chosen[0] = null;
            outdated.clear();
            if (!s.isDispvmTemplate(template)) {
                return s;
            }
            List<String> list = new ArrayList<>(s.preloadList(template));
            for (String n : List.copyOf(list)) {
                Optional<Qube> q = s.find(n);
                if (q.isEmpty() || Outdated.isOutdated(s, q.get())) {
                    outdated.add(n);
                    list.remove(n);
                }
            }
            chosen[0] = claimFirst(list, true);
            if (chosen[0] == null) {
                chosen[0] = claimFirst(list, false);
            }
            if (chosen[0] != null) {
                list.remove(chosen[0]);
            }
            if (chosen[0] == null && outdated.isEmpty()) {
                return s;
            }
            RegistryState next = s.withPreloadList(template, list);
            if (chosen[0] != null) {
                next = next.with(next.get(chosen[0]).withFeature(Features.PRELOAD_IN_PROGRESS, "1"));
            }
            return next;
        }, false);   // the use step persists it; lost in a crash, the preload is just ready again
        for (String n : outdated) {
            discard(n, "outdated at request", timings.cleanupDelay());
        }
        if (chosen[0] == null) {
            if (!outdated.isEmpty()) {
                // Spec 2.4 step 4: nothing survived the outdated check; fill the gap it left.
                LOG.log(System.Logger.Level.INFO, "no current preload of {0}: dropped outdated {1}", template, outdated);
                onRequest(template);
            }
            return Optional.empty();
        }
        PreloadHandle h = handles.get(chosen[0]);
        events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_CLAIMED, h.name(), template, "was " + h.stage()));
        return Optional.of(h);
    }

    /** The first of {@code list} (oldest first) claimed, among the ready ones only if {@code readyOnly}. */
    private String claimFirst(List<String> list, boolean readyOnly) {
        for (String n : list) {
            PreloadHandle h = handles.get(n);
            if (h != null && (!readyOnly || h.stage() == PreloadStage.READY) && h.claim()) {
                return n;
            }
        }
        return null;
    }

    /**
     * Delivers a claimed preload: waits for its creation to end (a failure ends the wait at once),
     * unpauses it, and performs the use step. Fails when the preload cannot be delivered; the caller
     * then cold-starts a disposable.
     */
    public CompletableFuture<Void> deliver(PreloadHandle h, Duration wait, String caller) {
        // Thread hops cost the caller (each a wake-up, milliseconds on a busy host): the unpause is only
        // asked for on the completing thread, the use step runs on ours, failures are handled on ours.
        return h.complete()
                .orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS)
                .thenCompose(v -> {
                    QubeState st = hypervisor.state(h.name());
                    if (st == QubeState.PAUSED) {
                        h.unpausingForCaller(true);
                        // The caller (and `qvm ls` after it) sees it running at once, not only when
                        // the backend's UNPAUSED event has been dispatched.
                        return hypervisor.unpause(h.name()).thenRun(() -> registry.powerChanged(h.name(), "Running"));
                    }
                    if (st == QubeState.RUNNING) {
                        return CompletableFuture.completedFuture(null);
                    }
                    return CompletableFuture.failedFuture(new IllegalStateException(h.name() + " is " + st));
                })
                .thenComposeAsync(v -> use(h, true, caller), executor)
                .whenComplete((v, e) -> {
                    if (e != null) {
                        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        String why = c instanceof TimeoutException ? "not ready within " + wait.toMillis() + " ms"
                                : c.toString();
                        executor.execute(() -> {
                            LOG.log(System.Logger.Level.WARNING, "preload {0} not delivered: {1}", h.name(), why);
                            discard(h.name(), "delivery failed: " + why, timings.cleanupDelay());
                        });
                    }
                });
    }

    /**
     * The use step (spec 2.6): an ordinary disposable from now on; refill per the delay rule. For a
     * caller, the {@code created-by-} tags are written in the same change: one store write per use.
     */
    private CompletableFuture<Void> use(PreloadHandle h, boolean requested, String caller) {
        if (requested ? !h.advance(PreloadStage.CLAIMED, PreloadStage.USED) : h.stage() != PreloadStage.USED) {
            return CompletableFuture.failedFuture(new CancellationException(h.name() + " is " + h.stage()));
        }
        String template = h.template();
        String[] deferredNetvm = {null};
        QubeRegistry.Commit c = registry.update(s -> {
            deferredNetvm[0] = null;
            Optional<Qube> q = s.find(h.name());
            if (q.isEmpty()) {
                return s;
            }
            RegistryState next = s;
            Qube n = q.get();
            boolean templateInternal = s.find(template).map(t -> t.featureTrue(Features.INTERNAL)).orElse(false);
            if (!templateInternal) {
                n = n.withoutFeature(Features.INTERNAL);
            }
            n = requested ? n.withoutFeature(Features.PRELOAD_IN_PROGRESS) : n.withFeature(Features.PRELOAD_IN_PROGRESS, "");
            n = n.withFeature(Features.PRELOAD_COMPLETED, "1");
            // Spec 2.6: the use step applies a network change deferred while it was paused (same write).
            deferredNetvm[0] = n.features().get(Features.DEFERRED_NETVM_ORIGINAL);
            n = n.withoutFeature(Features.DEFERRED_NETVM_ORIGINAL);
            if (caller != null) {
                n = n.withTag("created-by-" + caller).withTag("disp-created-by-" + caller);
            }
            return next.with(n).withoutPreload(h.name());
        });
        // Only now: until the deferred netvm is taken above, an UNPAUSED event must still see a preload.
        handles.remove(h.name(), h);
        RegistryState after = c.after();
        double d = PreloadSettings.delaySeconds(after, template);
        // The refill starts once the use is on disk, so its writes do not delay the caller's.
        Optional<String> deferred = Optional.ofNullable(deferredNetvm[0]);
        c.durable().whenComplete((v, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "use of {0} is not on disk yet ({1}); the next registry"
                        + " write carries it", h.name(), e.toString());
            }
            if (!(d < 0 && !registry.snapshot().preloadList(template).isEmpty())) {
                scheduleRefill(template, requested ? "preload used" : "preload used without a request",
                        PreloadSettings.toDuration(d));
            }
        });
        // The caller does not wait for the fsync (1-10 ms): a crash before it lands leaves the qube
        // listed as a preload but running, which recovery discards (only paused preloads are kept).
        // A deferred netvm is applied, and its uplink awaited, before the qube is handed out.
        return network.applyOnUse(h.name(), deferred, requested);
    }

    // ---------------------------------------------------------------- discard, events, recovery

    /** Takes {@code name} out of its queue and cleans it up after {@code delay}. */
    public CompletableFuture<Void> discard(String name, String reason, Duration delay) {
        PreloadHandle h = handles.get(name);
        CompletableFuture<?> settle = null;
        if (h != null) {
            if (!h.discard() && h.stage() == PreloadStage.USED) {
                return CompletableFuture.completedFuture(null);
            }
            handles.remove(name, h);
            h.complete().completeExceptionally(new CancellationException(name + " discarded: " + reason));
            settle = h.operation();
            events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_DISCARDED, name, h.template(), reason));
        }
        dropFromQueue(name);
        CompletableFuture<?> s = settle;
        CompletableFuture<Void> out = new CompletableFuture<>();
        executor.schedule(() -> cleaner.cleanup(name, reason, s, timings.killGrace(), true)
                        .whenComplete((v, e) -> {
                            if (e != null) {
                                out.completeExceptionally(e);
                            } else {
                                out.complete(null);
                            }
                        }),
                delay.toNanos(), TimeUnit.NANOSECONDS);
        return out;
    }

    /** Removes {@code name} from its template's queue at once, so a refill does not count it. */
    private void dropFromQueue(String name) {
        registry.update(s -> s.withoutPreload(name));
    }

    /** A life-cycle event from the hypervisor (already on the engine executor). */
    public void onLifecycle(dev.qrexec.xen.LifecycleEvent e) {
        PreloadHandle h = handles.get(e.qube());
        switch (e.kind()) {
            case STARTED -> network.netvmStarted(e.qube());
            case UNPAUSED -> {
                network.unpaused(e.qube(), h != null);
                if (h != null && !h.unpausingForCaller() && h.advance(PreloadStage.READY, PreloadStage.USED)) {
                    LOG.log(System.Logger.Level.WARNING, "preload {0} was unpaused without a request: now used", e.qube());
                    events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_USED_UNREQUESTED, e.qube(), h.template(), ""));
                    use(h, false, null);
                }
            }
            case DIED, HALTED -> {
                if (h != null && h.stage().isPreload()) {
                    discard(e.qube(), "it stopped: " + e.reason(), Duration.ZERO);
                }
            }
            default -> { }
        }
    }

    /**
     * Start-up recovery (spec 2.9, template domain-load): keeps only preloads that were ready and are
     * still paused; discards the rest and leftovers (see {@link RecoveryPlan}); then refills.
     */
    public void recover() {
        RegistryState s = registry.snapshot();
        RecoveryPlan plan = RecoveryPlan.of(s, hypervisor.list(), hypervisor::state);
        plan.keep().forEach((name, template) -> {
            PreloadHandle h = new PreloadHandle(name, template, PreloadStage.READY);
            h.complete().complete(null);
            handles.put(name, h);
        });
        LOG.log(System.Logger.Level.INFO, "recovery: kept ready preloads {0}, discarding {1}", plan.keep().keySet(),
                plan.discard());
        registry.update(st -> {
            RegistryState next = st;
            for (String n : plan.discard()) {
                next = next.withoutPreload(n);
            }
            return next;
        });
        for (String n : plan.discard()) {
            discard(n, "left over from a previous run", Duration.ZERO);
        }
        for (String t : PreloadSettings.preloadEnabled(s)) {
            scheduleRefill(t, "daemon start", Duration.ZERO);
        }
    }
}
