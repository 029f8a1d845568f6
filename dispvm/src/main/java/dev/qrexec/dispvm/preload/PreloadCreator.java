package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.event.EventHub;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.xen.Hypervisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * Creates one preload through its stages (spec 2.2-2.3): reserve a slot (one registry change that
 * checks the vacancy), define and start, wait until operational, balloon, pause, mark complete.
 * A claim skips the remaining waits and the pause; a discard stops the chain; a failure completes the
 * handle exceptionally at once (a waiting caller falls back without waiting) and discards the preload.
 *
 * <p>Threads: every continuation runs on the engine executor; hypervisor calls go through
 * {@link PreloadHandle#run} so a concurrent discard can never miss one.
 */
final class PreloadCreator {

    private static final System.Logger LOG = System.getLogger(PreloadCreator.class.getName());

    private final QubeRegistry registry;
    private final Hypervisor hypervisor;
    private final QubeSpecFactory specs;
    private final QubeReadiness readiness;
    private final MemoryBalancer balancer;
    private final EventHub events;
    private final ScheduledExecutorService executor;
    private final LongSupplier clock;
    private final Map<String, PreloadHandle> handles;
    private final BiConsumer<String, String> discard;

    PreloadCreator(QubeRegistry registry, Hypervisor hypervisor, QubeSpecFactory specs, QubeReadiness readiness,
                   MemoryBalancer balancer, EventHub events, ScheduledExecutorService executor, LongSupplier clock,
                   Map<String, PreloadHandle> handles, BiConsumer<String, String> discard) {
        this.registry = registry;
        this.hypervisor = hypervisor;
        this.specs = specs;
        this.readiness = readiness;
        this.balancer = balancer;
        this.events = events;
        this.executor = executor;
        this.clock = clock;
        this.handles = handles;
        this.discard = discard;
    }

    void create(String template) {
        String[] created = new String[1];
        QubeRegistry.Commit commit;
        try {
            commit = registry.update(s -> {
                if (!s.isDispvmTemplate(template)) {
                    return s;
                }
                List<String> list = s.preloadList(template);
                if (list.size() >= PreloadSettings.effectiveMax(s, template)) {
                    return s;
                }
                Mutations.Created c = Mutations.createDisposable(s, template, Optional.empty(), clock.getAsLong(),
                        Map.of(Features.INTERNAL, "1", Features.PRELOAD_IN_PROGRESS, "1"));
                List<String> next = new ArrayList<>(list);
                next.add(c.name());
                PreloadSettings.validateList(c.state(), template, list, next);
                created[0] = c.name();
                return c.state().withPreloadList(template, next);
            });
        } catch (RegistryException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot reserve a preload of {0}: {1}", template, e.getMessage());
            return;
        }
        if (created[0] == null) {
            LOG.log(System.Logger.Level.DEBUG, "no vacancy in {0}'s queue", template);
            return;
        }
        String name = created[0];
        PreloadHandle h = handles.computeIfAbsent(name, n -> new PreloadHandle(n, template, PreloadStage.RESERVED));
        events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_RESERVED, name, template, ""));
        Duration timeout = Duration.ofSeconds(Long.parseLong(
                commit.after().property(commit.after().get(name), PropertyRules.QREXEC_TIMEOUT)));
        commit.durable()
                .thenComposeAsync(v -> step(h, PreloadStage.RESERVED, PreloadStage.STARTING,
                        () -> define(name).thenCompose(x -> hypervisor.start(name))), executor)
                .thenComposeAsync(v -> {
                    events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_STARTED, name, template, ""));
                    return step(h, PreloadStage.STARTING, PreloadStage.WAITING_OPERATIONAL,
                            () -> untilRequested(h, readiness.awaitServices(name, startupServices(name), timeout)
                                    // An SPI that ignores its timeout must not hold the slot forever.
                                    .orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)));
                }, executor)
                .thenComposeAsync(v -> step(h, PreloadStage.WAITING_OPERATIONAL, PreloadStage.BALLOONING,
                        () -> balancer.balloon(name, h.requested()).thenApply(o -> null)), executor)
                .thenComposeAsync(v -> step(h, PreloadStage.BALLOONING, PreloadStage.PAUSING,
                        () -> hypervisor.pause(name)), executor)
                .thenComposeAsync(v -> markComplete(h), executor)
                .whenCompleteAsync((v, e) -> {
                    if (e == null) {
                        return;
                    }
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (h.isDiscarded() || cause instanceof CancellationException) {
                        h.complete().completeExceptionally(new CancellationException(name + " was discarded"));
                        return;
                    }
                    LOG.log(System.Logger.Level.WARNING, "preload {0} of {1} failed: {2}", name, template,
                            cause.toString());
                    events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_FAILED, name, template, cause.toString()));
                    h.complete().completeExceptionally(cause);
                    discard.accept(name, "start failed: " + cause.getMessage());
                }, executor);
    }

    /**
     * Runs the next stage unless the preload was claimed meanwhile (then the stage is skipped, as Qubes
     * skips waits and the pause for a requested preload) or discarded (then the chain stops).
     */
    private CompletableFuture<Void> step(PreloadHandle h, PreloadStage from, PreloadStage to,
                                         java.util.function.Supplier<CompletableFuture<Void>> work) {
        if (h.isDiscarded()) {
            return CompletableFuture.failedFuture(new CancellationException(h.name() + " discarded"));
        }
        if (h.stage() == PreloadStage.CLAIMED && to != PreloadStage.STARTING) {
            return CompletableFuture.completedFuture(null);
        }
        if (!h.advance(from, to) && h.stage() != PreloadStage.CLAIMED) {
            return CompletableFuture.failedFuture(new CancellationException(h.name() + " is " + h.stage()));
        }
        return h.run(work);
    }

    /** {@code wait} or the claim, whichever comes first; a failed wait still fails if not claimed. */
    private static CompletableFuture<Void> untilRequested(PreloadHandle h, CompletableFuture<Void> wait) {
        CompletableFuture<Void> out = new CompletableFuture<>();
        wait.whenComplete((v, e) -> {
            if (e == null || h.isRequested()) {
                out.complete(null);
            } else {
                out.completeExceptionally(e);
            }
        });
        h.requested().whenComplete((v, e) -> {
            if (out.complete(null)) {
                wait.cancel(false);
            }
        });
        return out;
    }

    /** What the preload waits for before it is complete (spec 2.3; section 5 item 28). */
    private List<String> startupServices(String name) {
        RegistryState s = registry.snapshot();
        return s.find(name).map(q -> StartupWaits.servicesFor(s, q))
                .orElse(List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM));
    }

    private CompletableFuture<Void> define(String name) {
        RegistryState s = registry.snapshot();
        return hypervisor.define(specs.specFor(s, s.get(name)));
    }

    private CompletableFuture<Void> markComplete(PreloadHandle h) {
        QubeRegistry.Commit c = registry.update(s -> {
            Optional<Qube> q = s.find(h.name());
            if (q.isEmpty()) {
                return s;
            }
            Qube n = q.get().withFeature(Features.PRELOAD_COMPLETED, "1");
            if (!h.isRequested()) {
                n = n.withFeature(Features.PRELOAD_IN_PROGRESS, "");
            }
            return s.with(n);
        });
        return c.durable().thenRun(() -> {
            if (h.advance(PreloadStage.PAUSING, PreloadStage.READY)) {
                events.publish(DispvmEvent.of(DispvmEvent.Kind.PRELOAD_READY, h.name(), h.template(),
                        (h.ageNanos() / 1_000_000) + " ms"));
            }
            if (h.isDiscarded()) {
                throw new CancellationException(h.name() + " discarded");
            }
            h.complete().complete(null);
        });
    }

}
