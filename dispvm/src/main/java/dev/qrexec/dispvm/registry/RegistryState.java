package dev.qrexec.dispvm.registry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One immutable, consistent version of the whole registry: every qube, the system properties, the
 * domain-id counter and the recently used dispids. Mutations build a new state; {@link QubeRegistry}
 * swaps it in atomically and persists it.
 *
 * @param generation     increases by one with every committed change; the store keeps it
 * @param qubes          every qube by name (dom0 included)
 * @param system         system properties (only {@code default_dispvm} today)
 * @param nextDomainId   where the search for a free domain id starts
 * @param recentDispids  dispid → wall-clock millis of the deletion of the disposable that held it
 * @param pools          storage pools by name
 */
public record RegistryState(long generation, NavigableMap<String, Qube> qubes, SortedMap<String, String> system,
                            int nextDomainId, SortedMap<Integer, Long> recentDispids,
                            SortedMap<String, StoragePool> pools) {

    public static final String SYSTEM_DEFAULT_DISPVM = "default_dispvm";
    public static final int MAX_DOMAIN_ID = 32_000;

    public RegistryState {
        qubes = Collections.unmodifiableNavigableMap(new TreeMap<>(qubes));
        system = Collections.unmodifiableSortedMap(new TreeMap<>(system));
        recentDispids = Collections.unmodifiableSortedMap(new TreeMap<>(recentDispids));
        pools = Collections.unmodifiableSortedMap(new TreeMap<>(pools));
    }

    public Optional<Qube> find(String name) {
        return Optional.ofNullable(qubes.get(name));
    }

    /** The qube, or {@link RegistryException.NoSuchQube}. */
    public Qube get(String name) {
        Qube q = qubes.get(name);
        if (q == null) {
            throw new RegistryException.NoSuchQube(name);
        }
        return q;
    }

    /** The system {@code default_dispvm}, empty when unset. */
    public Optional<String> systemDefaultDispvm() {
        String v = system.get(SYSTEM_DEFAULT_DISPVM);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v);
    }

    /** The effective value of a property (explicit or default), as a string; "" means none. */
    public String property(Qube qube, String property) {
        return PropertyRules.effective(this, qube, property);
    }

    public boolean isDispvmTemplate(String name) {
        Qube q = qubes.get(name);
        return q != null && q.klass() == QubeClass.APP_VM
                && PropertyRules.TRUE.equals(property(q, PropertyRules.TEMPLATE_FOR_DISPVMS));
    }

    /** Disposables whose {@code template} is {@code dvmTemplate}. */
    public List<Qube> dispvmsOf(String dvmTemplate) {
        List<Qube> out = new ArrayList<>();
        for (Qube q : qubes.values()) {
            if (q.klass() == QubeClass.DISP_VM && dvmTemplate.equals(q.properties().get(PropertyRules.TEMPLATE))) {
                out.add(q);
            }
        }
        return out;
    }

    /** The preload queue of a dvm template (feature {@code preload-dispvm}), oldest first. */
    public List<String> preloadList(String dvmTemplate) {
        Qube q = qubes.get(dvmTemplate);
        if (q == null) {
            return List.of();
        }
        return parseList(q.features().getOrDefault(Features.PRELOAD_DISPVM, ""));
    }

    /** This state with {@code template}'s queue replaced by {@code names}. */
    public RegistryState withPreloadList(String template, List<String> names) {
        return with(get(template).withFeature(Features.PRELOAD_DISPVM, joinList(names)));
    }

    /** This state without {@code name} in its template's queue (the same state when it is in none). */
    public RegistryState withoutPreload(String name) {
        Qube q = qubes.get(name);
        String template = q == null ? null : q.properties().get(PropertyRules.TEMPLATE);
        if (template == null || !qubes.containsKey(template)) {
            return this;
        }
        List<String> list = new ArrayList<>(preloadList(template));
        return list.remove(name) ? withPreloadList(template, list) : this;
    }

    /** Splits a space-separated qube list; "" and blanks give the empty list. */
    public static List<String> parseList(String value) {
        String v = value.strip();
        return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
    }

    public static String joinList(List<String> names) {
        return String.join(" ", names);
    }

    /** This state with one qube added or replaced (generation unchanged: the registry bumps it). */
    public RegistryState with(Qube qube) {
        TreeMap<String, Qube> m = new TreeMap<>(qubes);
        m.put(qube.name(), qube);
        return new RegistryState(generation, m, system, nextDomainId, recentDispids, pools);
    }

    public RegistryState without(String name) {
        TreeMap<String, Qube> m = new TreeMap<>(qubes);
        m.remove(name);
        return new RegistryState(generation, m, system, nextDomainId, recentDispids, pools);
    }

    public RegistryState withSystem(String key, String value) {
        TreeMap<String, String> s = new TreeMap<>(system);
        if (value == null || value.isEmpty()) {
            s.remove(key);
        } else {
            s.put(key, value);
        }
        return new RegistryState(generation, qubes, s, nextDomainId, recentDispids, pools);
    }

    public RegistryState withNextDomainId(int next) {
        return new RegistryState(generation, qubes, system, next, recentDispids, pools);
    }

    public RegistryState withRecentDispids(Map<Integer, Long> recent) {
        return new RegistryState(generation, qubes, system, nextDomainId, new TreeMap<>(recent), pools);
    }

    RegistryState withGeneration(long g) {
        return new RegistryState(g, qubes, system, nextDomainId, recentDispids, pools);
    }

    /** A free domain id at or after {@link #nextDomainId}, wrapping around; dom0's 0 is never handed out. */
    public int freeDomainId() {
        boolean[] used = new boolean[MAX_DOMAIN_ID + 1];
        for (Qube q : qubes.values()) {
            if (q.domainId() <= MAX_DOMAIN_ID) {
                used[q.domainId()] = true;
            }
        }
        int start = Math.max(1, Math.min(nextDomainId, MAX_DOMAIN_ID));
        for (int i = 0; i < MAX_DOMAIN_ID; i++) {
            int id = 1 + (start - 1 + i) % MAX_DOMAIN_ID;
            if (!used[id]) {
                return id;
            }
        }
        throw new RegistryException.InvalidValue("no free domain id left (" + MAX_DOMAIN_ID + " in use)");
    }

    /** The initial state: only dom0. */
    public static RegistryState initial() {
        Qube dom0 = Qube.create("dom0", QubeClass.ADMIN_VM, 0, new java.util.UUID(0, 0));
        return new RegistryState(0, new TreeMap<>(Map.of("dom0", dom0)), new TreeMap<>(), 1, new TreeMap<>(),
                defaultPools());
    }

    /** The pools of a fresh system: the default file pool and the kernel pool. */
    public static SortedMap<String, StoragePool> defaultPools() {
        return new TreeMap<>(Map.of(StoragePool.DEFAULT, new StoragePool(StoragePool.DEFAULT, "file"),
                StoragePool.KERNELS, new StoragePool(StoragePool.KERNELS, "linux-kernel")));
    }

    /** This state with one pool added or replaced. */
    public RegistryState withPool(StoragePool pool) {
        TreeMap<String, StoragePool> p = new TreeMap<>(pools);
        p.put(pool.name(), pool);
        return new RegistryState(generation, qubes, system, nextDomainId, recentDispids, p);
    }

    @Override
    public String toString() {
        return "RegistryState[generation=" + generation + ", qubes=" + Arrays.toString(qubes.keySet().toArray())
                + ", system=" + system + "]";
    }
}
