package dev.qrexec.dispvm.registry;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * One qube as the registry stores it: immutable; every change makes a new value.
 *
 * <p>{@code properties} holds only the properties explicitly set (a property absent here is at its
 * default, which {@link RegistryState#property} computes). {@code features} are strings, and a
 * feature present with the empty string is different from an absent one.
 *
 * @param name       qube name, unique
 * @param klass      its class
 * @param domainId   numeric domain id, persisted; 0 only for dom0
 * @param uuid       stable identity
 * @param properties explicitly set properties
 * @param features   features
 * @param tags       tags
 * @param volumes    its volumes by name (spec 1.3); none for dom0 and remote qubes
 */
public record Qube(String name, QubeClass klass, int domainId, UUID uuid,
                   SortedMap<String, String> properties, SortedMap<String, String> features,
                   SortedSet<String> tags, SortedMap<String, Volume> volumes) {

    public Qube {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(klass, "klass");
        Objects.requireNonNull(uuid, "uuid");
        properties = Collections.unmodifiableSortedMap(new TreeMap<>(properties));
        features = Collections.unmodifiableSortedMap(new TreeMap<>(features));
        tags = Collections.unmodifiableSortedSet(new TreeSet<>(tags));
        volumes = Collections.unmodifiableSortedMap(new TreeMap<>(volumes));
        volumes.forEach((k, v) -> {
            if (!k.equals(v.name())) {
                throw new IllegalArgumentException("volume '" + v.name() + "' of " + name + " is filed as '" + k + "'");
            }
        });
        if (domainId < 0 || (domainId == 0) != (klass == QubeClass.ADMIN_VM)) {
            throw new IllegalArgumentException("domain id " + domainId + " is invalid for " + klass + " '" + name
                    + "': 0 is reserved for the AdminVM, others are positive");
        }
    }

    public static Qube create(String name, QubeClass klass, int domainId, UUID uuid) {
        return new Qube(name, klass, domainId, uuid, new TreeMap<>(), new TreeMap<>(), new TreeSet<>(), new TreeMap<>());
    }

    /** The explicitly set value of a property, empty when it is at its default. */
    public Optional<String> explicitProperty(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    /** The value of a feature; {@code Optional.of("")} for present-but-empty. */
    public Optional<String> feature(String feature) {
        return Optional.ofNullable(features.get(feature));
    }

    /** Qubes' boolean reading of a feature: present and not empty. */
    public boolean featureTrue(String feature) {
        String v = features.get(feature);
        return v != null && !v.isEmpty();
    }

    public Qube withProperty(String property, String value) {
        return new Qube(name, klass, domainId, uuid, put(properties, property, value), features, tags, volumes);
    }

    public Qube withoutProperty(String property) {
        return new Qube(name, klass, domainId, uuid, remove(properties, property), features, tags, volumes);
    }

    public Qube withFeature(String feature, String value) {
        return new Qube(name, klass, domainId, uuid, properties, put(features, feature, value), tags, volumes);
    }

    public Qube withoutFeature(String feature) {
        return new Qube(name, klass, domainId, uuid, properties, remove(features, feature), tags, volumes);
    }

    public Qube withTag(String tag) {
        SortedSet<String> t = new TreeSet<>(tags);
        t.add(tag);
        return new Qube(name, klass, domainId, uuid, properties, features, t, volumes);
    }

    public Qube withoutTag(String tag) {
        SortedSet<String> t = new TreeSet<>(tags);
        t.remove(tag);
        return new Qube(name, klass, domainId, uuid, properties, features, t, volumes);
    }

    /** The volume, or empty when the qube has none of that name. */
    public Optional<Volume> volume(String volume) {
        return Optional.ofNullable(volumes.get(volume));
    }

    /** This qube with {@code v} added or replaced. */
    public Qube withVolume(Volume v) {
        SortedMap<String, Volume> c = new TreeMap<>(volumes);
        c.put(v.name(), v);
        return new Qube(name, klass, domainId, uuid, properties, features, tags, c);
    }

    /** This qube with exactly these volumes. */
    public Qube withVolumes(Map<String, Volume> all) {
        return new Qube(name, klass, domainId, uuid, properties, features, tags, new TreeMap<>(all));
    }

    private static SortedMap<String, String> put(Map<String, String> m, String k, String v) {
        SortedMap<String, String> c = new TreeMap<>(m);
        c.put(Objects.requireNonNull(k), Objects.requireNonNull(v, "value of " + k));
        return c;
    }

    private static SortedMap<String, String> remove(Map<String, String> m, String k) {
        SortedMap<String, String> c = new TreeMap<>(m);
        c.remove(k);
        return c;
    }
}
