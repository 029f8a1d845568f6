package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.event.EventHub;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Network attachment of running qubes to their netvm, with Qubes' deferral for paused ones (spec
 * 2.10): a netvm change or a netvm restart while a qube is paused is recorded in
 * {@code deferred-netvm-original} (the netvm it was attached to) instead of applied. An ordinary qube
 * applies it when it is unpaused; a preload only in its use step, which then waits up to
 * {@code uplinkWait} for {@code qubes.WaitForNetworkUplink} when the qube supports it, so a caller does
 * not get a disposable whose uplink is still being set up. Attaching is a model event here
 * ({@link DispvmEvent.Kind#NETWORK_ATTACHED}); backends have no virtual network yet.
 *
 * <p>Threads: called on the engine executor (lifecycle events, use step) and on admin threads
 * (property changes). All state is in the registry (one change each); nothing is held here.
 */
public final class DeferredNetwork {

    private static final System.Logger LOG = System.getLogger(DeferredNetwork.class.getName());

    private final QubeRegistry registry;
    private final Hypervisor hypervisor;
    private final QubeReadiness readiness;
    private final EventHub events;
    private final Duration uplinkWait;

    public DeferredNetwork(QubeRegistry registry, Hypervisor hypervisor, QubeReadiness readiness, EventHub events,
                           Duration uplinkWait) {
        this.registry = registry;
        this.hypervisor = hypervisor;
        this.readiness = readiness;
        this.events = events;
        this.uplinkWait = uplinkWait;
    }

    /** {@code qube}'s netvm property changed from {@code previous}: attach now, or defer when paused. */
    public void netvmChanged(String qube, String previous) {
        QubeState st = state(qube);
        if (st == QubeState.HALTED) {
            return;
        }
        if (st == QubeState.PAUSED) {
            defer(qube, previous);
        } else {
            attached(qube, previous);
        }
    }

    /** {@code netvm} (re)started: every running qube behind it reattaches; paused ones defer. */
    public void netvmStarted(String netvm) {
        RegistryState s = registry.snapshot();
        for (Qube q : s.qubes().values()) {
            if (!netvm.equals(s.property(q, PropertyRules.NETVM)) || q.name().equals(netvm)) {
                continue;
            }
            QubeState st = state(q.name());
            if (st == QubeState.PAUSED) {
                defer(q.name(), netvm);
            } else if (st != QubeState.HALTED) {
                attached(q.name(), netvm);
            }
        }
    }

    /**
     * An ordinary qube was unpaused: applies a deferred change (Qubes' generic hook). Preloads are
     * skipped; their use step applies it.
     */
    public void unpaused(String qube, boolean preload) {
        if (preload) {
            return;
        }
        Optional<String> original = takeDeferred(qube);
        original.ifPresent(o -> attached(qube, o));
    }

    /**
     * The network part of a preload's use step, after the use was committed with the deferred feature
     * removed ({@code original}: its value, empty when nothing was deferred). Completes when the caller
     * may have the qube: at once, or after the uplink answered, failed or {@code uplinkWait} passed.
     */
    public CompletableFuture<Void> applyOnUse(String qube, Optional<String> original, boolean waitForUplink) {
        if (original.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        attached(qube, original.get());
        RegistryState s = registry.snapshot();
        Optional<Qube> q = s.find(qube);
        if (!waitForUplink || q.isEmpty() || s.property(q.get(), PropertyRules.NETVM).isEmpty()
                || !StartupWaits.featureWithTemplate(s, qube, Features.RPC_WAIT_UPLINK)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> wait;
        try {
            wait = readiness.awaitServices(qube, List.of(QubeReadiness.WAIT_FOR_NETWORK_UPLINK), uplinkWait);
        } catch (RuntimeException e) {
            wait = CompletableFuture.failedFuture(e);
        }
        // orTimeout ends the SPI's own future, which tells the implementation to stop waiting.
        return wait.orTimeout(uplinkWait.toMillis(), TimeUnit.MILLISECONDS).handle((v, e) -> {
            if (e != null) {
                // The qube works, only its uplink may still be settling; the caller is not failed for it.
                LOG.log(System.Logger.Level.WARNING, "{0}: qubes.WaitForNetworkUplink did not answer within {1} ms: {2}",
                        qube, uplinkWait.toMillis(), e.toString());
            }
            return null;
        });
    }

    /**
     * Refuses to stop {@code netvm} while an ordinary running qube uses it; preloads do not count
     * (spec 2.10; section 5 item 41).
     */
    public void checkCanStop(String netvm, Predicate<String> isPreload) {
        RegistryState s = registry.snapshot();
        List<String> users = new ArrayList<>();
        for (Qube q : s.qubes().values()) {
            if (!q.name().equals(netvm) && netvm.equals(s.property(q, PropertyRules.NETVM))
                    && state(q.name()) != QubeState.HALTED && !isPreload.test(q.name())) {
                users.add(q.name());
            }
        }
        if (!users.isEmpty()) {
            throw new RegistryException.InUse("cannot stop " + netvm + ": running qubes use it as netvm: "
                    + String.join(", ", users) + " (stop them or change their netvm first)");
        }
    }

    private void defer(String qube, String original) {
        boolean[] recorded = {false};
        registry.update(s -> {
            recorded[0] = false;
            Optional<Qube> q = s.find(qube);
            // The first deferral keeps the netvm the qube is really attached to.
            if (q.isEmpty() || q.get().features().containsKey(Features.DEFERRED_NETVM_ORIGINAL)) {
                return s;
            }
            recorded[0] = true;
            return s.with(q.get().withFeature(Features.DEFERRED_NETVM_ORIGINAL, original));
        });
        if (recorded[0]) {
            LOG.log(System.Logger.Level.DEBUG, "{0} is paused: network change deferred (attached to {1})", qube, original);
            events.publish(DispvmEvent.of(DispvmEvent.Kind.NETWORK_DEFERRED, qube, template(qube), original));
        }
    }

    private Optional<String> takeDeferred(String qube) {
        String[] original = {null};
        registry.update(s -> {
            original[0] = null;
            Optional<Qube> q = s.find(qube);
            if (q.isEmpty() || !q.get().features().containsKey(Features.DEFERRED_NETVM_ORIGINAL)) {
                return s;
            }
            original[0] = q.get().features().get(Features.DEFERRED_NETVM_ORIGINAL);
            return s.with(q.get().withoutFeature(Features.DEFERRED_NETVM_ORIGINAL));
        });
        return Optional.ofNullable(original[0]);
    }

    private void attached(String qube, String previous) {
        RegistryState s = registry.snapshot();
        String netvm = s.find(qube).map(q -> s.property(q, PropertyRules.NETVM)).orElse("");
        events.publish(DispvmEvent.of(DispvmEvent.Kind.NETWORK_ATTACHED, qube, template(qube),
                "netvm " + (netvm.isEmpty() ? "(none)" : netvm) + ", was " + (previous.isEmpty() ? "(none)" : previous)));
    }

    private String template(String qube) {
        return registry.snapshot().find(qube).map(q -> q.properties().getOrDefault(PropertyRules.TEMPLATE, ""))
                .orElse("");
    }

    private QubeState state(String qube) {
        try {
            return hypervisor.list().contains(qube) ? hypervisor.state(qube) : QubeState.HALTED;
        } catch (RuntimeException e) {
            return QubeState.HALTED;
        }
    }
}
