package dev.qrexec.broker.admin;

import dev.qrexec.dispvm.Disposable;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.QubeAdmin;
import dev.qrexec.dispvm.QueueStatus;
import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.StoragePool;
import dev.qrexec.dispvm.registry.Volume;
import dev.qrexec.dispvm.registry.Volumes;
import dev.qrexec.xen.HypervisorException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The admin socket's backend on the real registry and preload engine ({@link DispvmManager}).
 * Registry errors become the Qubes exception types clients expect; power operations wait for their
 * future, at most {@link #POWER_TIMEOUT}, on the admin socket's worker thread.
 */
public final class DispvmAdminBackend implements AdminBackend {

    static final Duration POWER_TIMEOUT = Duration.ofMinutes(2);
    private static final Set<String> INT_PROPERTIES = Set.of(PropertyRules.MEMORY, PropertyRules.MAXMEM,
            PropertyRules.VCPUS, PropertyRules.QREXEC_TIMEOUT, "qid", PropertyRules.DISPID);
    private static final Set<String> BOOL_PROPERTIES = Set.of(PropertyRules.TEMPLATE_FOR_DISPVMS,
            PropertyRules.AUTO_CLEANUP, PropertyRules.DEBUG, PropertyRules.INCLUDE_IN_BACKUPS);
    private static final Set<String> VM_PROPERTIES = Set.of(PropertyRules.TEMPLATE, PropertyRules.NETVM,
            PropertyRules.DEFAULT_DISPVM, PropertyRules.GUIVM, PropertyRules.RELAYVM);

    private final DispvmManager manager;
    private final QubeAdmin admin;

    public DispvmAdminBackend(DispvmManager manager) {
        this.manager = manager;
        this.admin = manager.admin();
    }

    /** Runs a registry call, translating its exceptions. */
    private interface Call<T> {
        T run();
    }

    private static <T> T registry(Call<T> call) throws AdminException {
        try {
            return call.run();
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    private static void power(Call<CompletableFuture<?>> call) throws AdminException {
        try {
            call.run().get(POWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw translate(e.getCause());
        } catch (TimeoutException e) {
            throw AdminException.state("operation did not finish within " + POWER_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AdminException.state("interrupted");
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    static AdminException translate(Throwable e) {
        if (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        String msg = String.valueOf(e.getMessage());
        if (e instanceof RegistryException.NoSuchQube) {
            return new AdminException("QubesVMNotFoundError", msg);
        }
        if (e instanceof RegistryException.AlreadyExists || e instanceof RegistryException.InvalidValue
                || e instanceof IllegalArgumentException) {
            return AdminException.value(msg);
        }
        if (e instanceof RegistryException.InUse) {
            return new AdminException("QubesVMInUseError", msg);
        }
        if (e instanceof RegistryException.NotAllowed || e instanceof HypervisorException) {
            return AdminException.state(msg);
        }
        return new AdminException("QubesException", msg);
    }

    @Override
    public List<QubeSummary> list() {
        List<QubeSummary> out = new ArrayList<>();
        for (Qube q : admin.list()) {
            String state;
            try {
                state = admin.powerState(q.name());
            } catch (RegistryException e) {
                continue; // removed between the two reads
            }
            out.add(new QubeSummary(q.name(), q.klass().typeName(), state));
        }
        return out;
    }

    @Override
    public void create(String qubeClass, String template, Map<String, String> properties) throws AdminException {
        Map<String, String> props = new LinkedHashMap<>(properties);
        String name = props.remove("name");
        QubeClass klass = registry(() -> QubeClass.ofTypeName(qubeClass));
        if (klass == QubeClass.DISP_VM) {
            if (template.isEmpty()) {
                throw AdminException.value("a DispVM needs its disposable template as argument");
            }
            registry(() -> admin.createDisposable(template, Optional.of(name)));
            for (Map.Entry<String, String> p : props.entrySet()) {
                registry(() -> {
                    admin.setProperty(name, p.getKey(), p.getValue());
                    return null;
                });
            }
            return;
        }
        if (!template.isEmpty()) {
            props.put(PropertyRules.TEMPLATE, template);
        }
        registry(() -> admin.create(name, klass, props));
    }

    @Override
    public List<String> propertyNames(String qube) throws AdminException {
        Qube q = registry(() -> admin.get(qube));
        return List.copyOf(PropertyRules.namesFor(q.klass()));
    }

    @Override
    public PropertyValue property(String qube, String property) throws AdminException {
        Qube q = registry(() -> admin.get(qube));
        if (!PropertyRules.exists(q.klass(), property)) {
            throw AdminException.noSuchProperty(qube, property);
        }
        String value = registry(() -> admin.property(qube, property));
        boolean isDefault = registry(() -> admin.isDefault(qube, property));
        return new PropertyValue(isDefault, typeOf(property), value);
    }

    static String typeOf(String property) {
        if (INT_PROPERTIES.contains(property)) {
            return "int";
        }
        if (BOOL_PROPERTIES.contains(property)) {
            return "bool";
        }
        if (VM_PROPERTIES.contains(property)) {
            return "vm";
        }
        return property.equals(PropertyRules.LABEL) ? "label" : "str";
    }

    @Override
    public void setProperty(String qube, String property, String value) throws AdminException {
        Qube q = registry(() -> admin.get(qube));
        if (!PropertyRules.exists(q.klass(), property)) {
            throw AdminException.noSuchProperty(qube, property);
        }
        registry(() -> {
            admin.setProperty(qube, property, value);
            return null;
        });
    }

    @Override
    public void resetProperty(String qube, String property) throws AdminException {
        registry(() -> {
            admin.resetProperty(qube, property);
            return null;
        });
    }

    @Override
    public List<String> featureNames(String qube) throws AdminException {
        return List.copyOf(registry(() -> admin.features(qube)).keySet());
    }

    @Override
    public Optional<String> feature(String qube, String feature) throws AdminException {
        return Optional.ofNullable(registry(() -> admin.features(qube)).get(feature));
    }

    @Override
    public void setFeature(String qube, String feature, String value) throws AdminException {
        registry(() -> {
            admin.setFeature(qube, feature, value);
            return null;
        });
    }

    @Override
    public boolean removeFeature(String qube, String feature) throws AdminException {
        if (!registry(() -> admin.features(qube)).containsKey(feature)) {
            return false;
        }
        registry(() -> {
            admin.removeFeature(qube, feature);
            return null;
        });
        return true;
    }

    @Override
    public Set<String> tags(String qube) throws AdminException {
        return Set.copyOf(registry(() -> admin.tags(qube)));
    }

    @Override
    public void addTag(String qube, String tag) throws AdminException {
        registry(() -> {
            admin.addTag(qube, tag);
            return null;
        });
    }

    @Override
    public boolean removeTag(String qube, String tag) throws AdminException {
        if (!registry(() -> admin.tags(qube)).contains(tag)) {
            return false;
        }
        registry(() -> {
            admin.removeTag(qube, tag);
            return null;
        });
        return true;
    }

    @Override
    public void start(String qube) throws AdminException {
        power(() -> admin.start(qube));
    }

    @Override
    public void pause(String qube) throws AdminException {
        power(() -> admin.pause(qube));
    }

    @Override
    public void unpause(String qube) throws AdminException {
        power(() -> admin.unpause(qube));
    }

    /** Killing a disposable ends it for good (storage discarded, unnamed ones removed), as in Qubes. */
    @Override
    public void kill(String qube) throws AdminException {
        Qube q = registry(() -> admin.get(qube));
        if (q.klass() == QubeClass.DISP_VM) {
            power(() -> manager.release(qube));
        } else {
            power(() -> admin.kill(qube));
        }
    }

    @Override
    public void remove(String qube) throws AdminException {
        power(() -> admin.remove(qube));
    }

    @Override
    public String createDisposable(String template, String caller) throws AdminException {
        CompletableFuture<Disposable> f = template.equals("dom0") ? manager.obtainDefault(caller)
                : manager.obtain(template, caller);
        Disposable[] d = new Disposable[1];
        power(() -> f.thenAccept(x -> d[0] = x));
        return d[0].name();
    }

    @Override
    public List<String> volumeNames(String qube) throws AdminException {
        return List.copyOf(registry(() -> admin.volumes(qube)).keySet());
    }

    /** The fields qubesd prints for a volume, in its order; {@code revision} is ours. */
    @Override
    public Map<String, String> volumeInfo(String qube, String volume) throws AdminException {
        var state = manager.snapshot();
        Qube q = registry(() -> state.get(qube));
        Volume v = q.volume(volume).orElseThrow(() -> AdminException.value(qube + " has no volume '" + volume + "'"));
        Map<String, String> out = new LinkedHashMap<>();
        out.put("pool", v.pool());
        out.put("vid", qube + "/" + volume);
        out.put("size", Long.toString(v.sizeBytes()));
        out.put("usage", "0");
        out.put("rw", bool(v.rw()));
        out.put("source", v.source());
        out.put("save_on_stop", bool(v.saveOnStop()));
        out.put("snap_on_start", bool(v.snapOnStart()));
        out.put("revisions_to_keep", "0");
        out.put("ephemeral", bool(v.ephemeral()));
        out.put("is_outdated", bool(Volumes.outdated(state, q).contains(volume)));
        out.put("revision", Long.toString(v.revision()));
        return out;
    }

    private static String bool(boolean b) {
        return b ? "True" : "False";
    }

    @Override
    public void resizeVolume(String qube, String volume, long sizeBytes) throws AdminException {
        registry(() -> {
            admin.resizeVolume(qube, volume, sizeBytes);
            return null;
        });
    }

    @Override
    public List<String> poolNames() {
        return admin.pools().stream().map(StoragePool::name).toList();
    }

    @Override
    public String uuid(String qube) throws AdminException {
        return registry(() -> admin.get(qube)).uuid().toString();
    }

    @Override
    public List<PreloadQueue> preloadQueues() {
        List<PreloadQueue> out = new ArrayList<>();
        for (QueueStatus s : manager.queueStatus()) {
            out.add(new PreloadQueue(s.template(), s.max(), s.global(), s.ready(), s.preloading(), s.claimed()));
        }
        return out;
    }

    @Override
    public String systemInfoJson() {
        return manager.systemInfo().json();
    }

    /** Events are named after the manager's kinds ({@code preload-ready}, {@code qube-created}, ...). */
    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
        return manager.subscribe(e -> listener.accept(toEvent(e)));
    }

    static Event toEvent(DispvmEvent e) {
        Map<String, String> attrs = new LinkedHashMap<>();
        if (!e.template().isEmpty()) {
            attrs.put("template", e.template());
        }
        if (!e.detail().isEmpty()) {
            attrs.put("detail", e.detail());
        }
        return new Event(e.qube(), e.kind().name().toLowerCase(Locale.ROOT).replace('_', '-'), attrs);
    }
}
