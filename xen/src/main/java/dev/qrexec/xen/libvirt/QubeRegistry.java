package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The qubes of one backend, by name, plus the names and domain ids taken (by a defined qube or a
 * define in flight, so two concurrent defines cannot take the same). Thread-safe, lock-free.
 */
final class QubeRegistry {

    private final ConcurrentMap<String, ManagedQube> qubes = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Boolean> names = new ConcurrentHashMap<>();
    private final ConcurrentMap<Integer, String> domainIds = new ConcurrentHashMap<>();

    /** Takes the spec's name and domain id, or says which is taken. Undo with {@link #release}. */
    void reserve(QubeSpec spec) {
        if (names.putIfAbsent(spec.name(), Boolean.TRUE) != null) {
            throw new HypervisorException.AlreadyDefined("qube '" + spec.name() + "' is already defined");
        }
        String holder = domainIds.putIfAbsent(spec.domainId(), spec.name());
        if (holder != null) {
            names.remove(spec.name());
            throw new HypervisorException.AlreadyDefined(
                    "domain id " + spec.domainId() + " is already used by qube '" + holder + "'");
        }
    }

    /** Gives back what {@link #reserve} took. */
    void release(QubeSpec spec) {
        domainIds.remove(spec.domainId(), spec.name());
        names.remove(spec.name());
    }

    /** Adds a qube whose name and domain id are reserved (or, at recovery, reserves them too). */
    void add(ManagedQube q) {
        names.put(q.name(), Boolean.TRUE);
        domainIds.put(q.spec.domainId(), q.name());
        qubes.put(q.name(), q);
    }

    /** Forgets a qube (if it is still the registered one) and frees its name and domain id. */
    void remove(ManagedQube q) {
        if (qubes.remove(q.name(), q)) {
            release(q.spec);
        }
    }

    /** The qube, or null. */
    ManagedQube get(String name) {
        return qubes.get(name);
    }

    /** True while {@code q} is the qube registered under its name. */
    boolean current(ManagedQube q) {
        return qubes.get(q.name()) == q;
    }

    ManagedQube require(String name) {
        ManagedQube q = qubes.get(name);
        if (q == null) {
            throw new HypervisorException.NoSuchQube(name);
        }
        return q;
    }

    List<String> names() {
        return qubes.keySet().stream().sorted().toList();
    }

    Collection<ManagedQube> all() {
        return qubes.values();
    }
}
