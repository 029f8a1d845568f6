package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.preload.PreloadEngine;
import dev.qrexec.dispvm.preload.PreloadSettings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.StoragePool;
import dev.qrexec.dispvm.registry.Volume;
import dev.qrexec.dispvm.registry.Volumes;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * {@link QubeAdmin} on top of the registry, wiring every change to the preload engine as spec 2.9's
 * event table says (feature set/delete, system default change, template changes, removal).
 *
 * <p>Threads: called on the admin socket's threads. Registry changes block until durable (no lock
 * is held while waiting); engine reactions are scheduled on the engine executor.
 */
final class AdminOperations implements QubeAdmin {

    private static final System.Logger LOG = System.getLogger(AdminOperations.class.getName());

    private final DispvmManager m;
    private final QubeRegistry registry;
    private final PreloadEngine engine;
    private final Hypervisor hv;

    AdminOperations(DispvmManager manager) {
        this.m = manager;
        this.registry = manager.registry();
        this.engine = manager.engine();
        this.hv = manager.hypervisor();
    }

    private Predicate<String> running() {
        return n -> hv.list().contains(n) && hv.state(n) != QubeState.HALTED;
    }

    private RegistryState commit(java.util.function.UnaryOperator<RegistryState> change) {
        return registry.update(change).awaitDurable();
    }

    @Override
    public List<Qube> list() {
        return List.copyOf(registry.snapshot().qubes().values());
    }

    @Override
    public Qube get(String name) {
        return registry.snapshot().get(name);
    }

    @Override
    public Qube create(String name, QubeClass klass, Map<String, String> properties) {
        RegistryState s = commit(st -> Mutations.createQube(st, name, klass, properties));
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, name, "", klass.typeName()));
        return s.get(name);
    }

    @Override
    public Qube createInPool(String name, QubeClass klass, Map<String, String> properties,
                             Map<String, String> volumePools) {
        RegistryState s = commit(st -> Mutations.createQube(st, name, klass, properties, volumePools));
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, name, "", klass.typeName()));
        return s.get(name);
    }

    @Override
    public List<StoragePool> pools() {
        return List.copyOf(registry.snapshot().pools().values());
    }

    @Override
    public void addPool(String name, String driver) {
        StoragePool p = new StoragePool(name, driver);
        commit(st -> {
            if (st.pools().containsKey(name)) {
                throw new RegistryException.InvalidValue("pool " + name + " already exists");
            }
            return st.withPool(p);
        });
    }

    @Override
    public SortedMap<String, Volume> volumes(String qube) {
        return get(qube).volumes();
    }

    @Override
    public void resizeVolume(String qube, String volume, long sizeBytes) {
        // No refresh here, as in Qubes: a request skips preloads whose private size no longer matches.
        commit(st -> Volumes.resize(st, qube, volume, sizeBytes));
    }

    @Override
    public void setVolumeFlag(String qube, String volume, String flag, boolean value) {
        if (running().test(qube)) {
            throw new RegistryException.NotAllowed("cannot change " + flag + " of " + qube + ":" + volume
                    + " while it runs");
        }
        commit(st -> Volumes.setFlag(st, qube, volume, flag, value));
    }

    @Override
    public Qube createDisposable(String dvmTemplate, Optional<String> name) {
        Mutations.Created[] c = new Mutations.Created[1];
        commit(st -> {
            c[0] = Mutations.createDisposable(st, dvmTemplate, name, System.currentTimeMillis(), Map.of());
            return c[0].state();
        });
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, c[0].name(), dvmTemplate, "DispVM"));
        return registry.snapshot().get(c[0].name());
    }

    @Override
    public CompletableFuture<Void> preload(String dvmTemplate) {
        if (!registry.snapshot().isDispvmTemplate(dvmTemplate)) {
            return CompletableFuture.failedFuture(new RegistryException.InvalidValue("'" + dvmTemplate
                    + "' is not a disposable template"));
        }
        engine.scheduleRefill(dvmTemplate, "preload was requested", Duration.ZERO);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public String property(String qube, String property) {
        RegistryState s = registry.snapshot();
        Qube q = s.get(qube);
        if (!PropertyRules.exists(q.klass(), property)) {
            throw new RegistryException.InvalidValue("no property '" + property + "' on " + qube);
        }
        return s.property(q, property);
    }

    @Override
    public boolean isDefault(String qube, String property) {
        return !get(qube).properties().containsKey(property);
    }

    @Override
    public void setProperty(String qube, String property, String value) {
        RegistryState before = registry.snapshot();
        // For a dvm template's TemplateVM the mutation refuses while a non-preload disposable runs;
        // its preloads are replaced afterwards (afterPropertyChange).
        RegistryState after = commit(st -> Mutations.setProperty(st, qube, property, value, running(), engine::isPreload));
        afterPropertyChange(before, after, qube, property);
    }

    @Override
    public void resetProperty(String qube, String property) {
        RegistryState before = registry.snapshot();
        RegistryState after = commit(st -> Mutations.resetProperty(st, qube, property, engine::isPreload));
        afterPropertyChange(before, after, qube, property);
    }

    private void afterPropertyChange(RegistryState before, RegistryState after, String qube, String property) {
        if (before.generation() == after.generation()
                || Objects.equals(before.find(qube).map(q -> before.property(q, property)),
                after.find(qube).map(q -> after.property(q, property)))) {
            return;
        }
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.PROPERTY_CHANGED, qube, "", property + "="
                + after.property(after.get(qube), property)));
        if (PropertyRules.NETVM.equals(property)) {
            engine.network().netvmChanged(qube, before.property(before.get(qube), property));
        }
        boolean wasDvm = before.isDispvmTemplate(qube);
        boolean isDvm = after.isDispvmTemplate(qube);
        if (PropertyRules.TEMPLATE_FOR_DISPVMS.equals(property)) {
            if (wasDvm && !isDvm) {
                engine.trim(qube, 0, "template_for_dispvms turned off");
            } else if (!wasDvm && isDvm) {
                refillIfVacancy(qube, "template_for_dispvms turned on");
            }
            return;
        }
        if (!isDvm) {
            return;
        }
        if (PropertyRules.TEMPLATE.equals(property)) {
            engine.trim(qube, 0, "its template changed");
            refillIfVacancy(qube, "its template changed");
        } else if (!PropertyRules.DEFAULT_DISPVM.equals(property) && !"autostart".equals(property)) {
            engine.refreshOutdated(qube, m.timings().propertyRefresh(), property + " changed");
        }
    }

    private void refillIfVacancy(String template, String reason) {
        RegistryState s = registry.snapshot();
        if (s.preloadList(template).size() < PreloadSettings.effectiveMax(s, template)) {
            engine.scheduleRefill(template, reason, Duration.ZERO);
        }
    }

    @Override
    public Optional<String> systemDefaultDispvm() {
        return registry.snapshot().systemDefaultDispvm();
    }

    @Override
    public void setSystemDefaultDispvm(String value) {
        RegistryState before = registry.snapshot();
        RegistryState after = commit(st -> Mutations.setSystemDefaultDispvm(st, value));
        if (before == after || before.generation() == after.generation()) {
            return;
        }
        if (after.get("dom0").feature(Features.PRELOAD_DISPVM_MAX).isEmpty()) {
            return;
        }
        for (Optional<String> t : List.of(before.systemDefaultDispvm(), after.systemDefaultDispvm())) {
            if (t.isPresent() && after.isDispvmTemplate(t.get()) && PreloadSettings.globalDistinct(after, t.get())) {
                engine.scheduleRefill(t.get(), "system default_dispvm changed", Duration.ZERO);
            }
        }
    }

    @Override
    public SortedMap<String, String> features(String qube) {
        return get(qube).features();
    }

    @Override
    public void setFeature(String qube, String feature, String value) {
        Objects.requireNonNull(value, "value");
        if (Features.ENGINE_OWNED.contains(feature)) {
            throw new RegistryException.NotAllowed("feature '" + feature + "' is managed by the daemon");
        }
        RegistryState before = registry.snapshot();
        RegistryState after = commit(st -> {
            Qube q = st.get(qube);
            PreloadSettings.validateFeature(st, q, feature, value);
            return value.equals(q.features().get(feature)) ? st : st.with(q.withFeature(feature, value));
        });
        if (before.generation() == after.generation()) {
            return;
        }
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.FEATURE_CHANGED, qube, "", feature + "=" + value));
        onFeatureChange(before, after, qube, feature, true);
    }

    @Override
    public void removeFeature(String qube, String feature) {
        if (Features.ENGINE_OWNED.contains(feature)) {
            throw new RegistryException.NotAllowed("feature '" + feature + "' is managed by the daemon");
        }
        RegistryState before = registry.snapshot();
        RegistryState after = commit(st -> {
            Qube q = st.get(qube);
            return q.features().containsKey(feature) ? st.with(q.withoutFeature(feature)) : st;
        });
        if (before.generation() == after.generation()) {
            return;
        }
        m.events().publish(DispvmEvent.of(DispvmEvent.Kind.FEATURE_CHANGED, qube, "", feature + " removed"));
        onFeatureChange(before, after, qube, feature, false);
    }

    /** Spec 2.9 rows for {@code preload-dispvm-max}, local and global. */
    private void onFeatureChange(RegistryState before, RegistryState after, String qube, String feature, boolean set) {
        if (!Features.PRELOAD_DISPVM_MAX.equals(feature)) {
            return;
        }
        if ("dom0".equals(qube)) {
            after.systemDefaultDispvm().filter(after::isDispvmTemplate).ifPresent(d ->
                    engine.scheduleRefill(d, set ? "global feature was set" : "global feature was removed",
                            Duration.ZERO));
            return;
        }
        if (!after.isDispvmTemplate(qube) || PreloadSettings.globalApplies(after, qube)) {
            return;
        }
        if (set) {
            engine.scheduleRefill(qube, "local feature was set", Duration.ZERO);
        } else {
            engine.trim(qube, 0, "local feature was removed");
        }
    }

    @Override
    public SortedSet<String> tags(String qube) {
        return get(qube).tags();
    }

    @Override
    public void addTag(String qube, String tag) {
        if (tag == null || !tag.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new RegistryException.InvalidValue("invalid tag '" + tag + "': 1 to 64 letters, digits, '_', '-', '.'");
        }
        commit(st -> st.get(qube).tags().contains(tag) ? st : st.with(st.get(qube).withTag(tag)));
    }

    @Override
    public void removeTag(String qube, String tag) {
        commit(st -> st.get(qube).tags().contains(tag) ? st.with(st.get(qube).withoutTag(tag)) : st);
    }

    @Override
    public CompletableFuture<Void> start(String qube) {
        RegistryState s = registry.snapshot();
        Qube q = s.get(qube);
        if (q.klass() == QubeClass.ADMIN_VM || q.klass() == QubeClass.REMOTE_VM) {
            return CompletableFuture.failedFuture(new RegistryException.NotAllowed("cannot start " + q.klass() + " " + qube));
        }
        if (engine.isPreload(qube)) {
            return CompletableFuture.completedFuture(null);
        }
        if (!hv.list().contains(qube) && q.volumes().values().stream().anyMatch(v -> v.snapOnStart())) {
            // Snapshots are taken at start: record which origin revisions this start uses.
            s = commit(st -> st.find(qube).map(x -> {
                Qube taken = Volumes.snapshotTaken(st, x);
                return taken.equals(x) ? st : st.with(taken);
            }).orElse(st));
            q = s.get(qube);
        }
        RegistryState spec = s;
        Qube specQube = q;
        CompletableFuture<Void> defined = hv.list().contains(qube) ? CompletableFuture.completedFuture(null)
                : hv.define(m.specFor(spec, specQube));
        return defined.thenCompose(v -> hv.state(qube) == QubeState.HALTED ? hv.start(qube)
                : CompletableFuture.completedFuture(null));
    }

    @Override
    public CompletableFuture<Void> pause(String qube) {
        return hv.pause(requireDefined(qube));
    }

    /** Unpausing a ready preload makes it an ordinary disposable (the engine sees the UNPAUSED event). */
    @Override
    public CompletableFuture<Void> unpause(String qube) {
        return hv.unpause(requireDefined(qube));
    }

    /** Refused while an ordinary running qube uses it as netvm; preloads do not count (spec 2.10). */
    @Override
    public CompletableFuture<Void> kill(String qube) {
        requireDefined(qube);
        engine.network().checkCanStop(qube, engine::isPreload);
        return hv.kill(qube);
    }

    /**
     * A clean shutdown, refused like {@link #kill} while it serves ordinary qubes as netvm. A preload is
     * destroyed instead (spec 2.10: it holds no data and may be paused).
     */
    @Override
    public CompletableFuture<Void> shutdown(String qube, Duration timeout) {
        requireDefined(qube);
        engine.network().checkCanStop(qube, engine::isPreload);
        if (engine.isPreload(qube)) {
            return hv.kill(qube);
        }
        return hv.shutdown(qube, timeout);
    }

    private String requireDefined(String qube) {
        registry.snapshot().get(qube);
        if (!hv.list().contains(qube)) {
            throw new RegistryException.NotAllowed(qube + " is not running");
        }
        return qube;
    }

    @Override
    public CompletableFuture<Void> remove(String qube) {
        RegistryState s = registry.snapshot();
        Qube q = s.get(qube);
        List<CompletableFuture<Void>> preloads = new ArrayList<>();
        if (s.isDispvmTemplate(qube)) {
            // Only preloads may depend on a template being removed; check before discarding them.
            Mutations.removeQube(s, qube, n -> false, engine::isPreload, 0);
            for (Qube d : s.dispvmsOf(qube)) {
                if (engine.isPreload(d.name())) {
                    preloads.add(engine.discard(d.name(), "its template is being removed", Duration.ZERO));
                }
            }
            engine.trim(qube, 0, "template removed");
        }
        return CompletableFuture.allOf(preloads.toArray(CompletableFuture[]::new))
                .thenCompose(v -> hv.list().contains(qube) && running().test(qube)
                        ? CompletableFuture.failedFuture(new RegistryException.NotAllowed("cannot remove " + qube
                        + ": it is running; kill it first"))
                        : hv.list().contains(qube) ? hv.undefine(qube) : CompletableFuture.completedFuture(null))
                .thenRun(() -> {
                    commit(st -> Mutations.removeQube(st, qube, running(), engine::isPreload,
                            System.currentTimeMillis()));
                    m.events().publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_REMOVED, qube, "", q.klass().typeName()));
                });
    }

    @Override
    public String powerState(String qube) {
        registry.snapshot().get(qube);
        return registry.powerState(qube);
    }

    /**
     * A qube halted: its {@code save_on_stop} volumes were committed, so their revisions move on and
     * snapshots taken from them are outdated (spec 2.9, domain-shutdown rows; section 5 item 35). The
     * queues of dvm templates whose preloads snapshot it are refreshed.
     */
    void storageMayHaveChanged(String qube) {
        RegistryState after = commit(st -> Volumes.committedOnStop(st, qube));
        for (Qube t : after.qubes().values()) {
            boolean affected = t.name().equals(qube) || qube.equals(t.properties().get(PropertyRules.TEMPLATE));
            if (affected && after.isDispvmTemplate(t.name())) {
                LOG.log(System.Logger.Level.DEBUG, "{0} halted: refreshing preloads of {1}", qube, t.name());
                engine.refreshOutdated(t.name(), m.timings().shutdownRefresh(), qube + " halted");
            }
        }
    }
}
