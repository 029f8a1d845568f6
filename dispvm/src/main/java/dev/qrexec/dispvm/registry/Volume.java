package dev.qrexec.dispvm.registry;

import java.util.Objects;

/**
 * One volume of a qube (spec 1.3): where it lives, how big it is, and what happens to it at start and
 * stop. Immutable; every change makes a new value.
 *
 * <p>Revisions replace Qubes' storage-level "is this snapshot still current" question with numbers:
 * {@code revision} grows whenever the volume's committed content changes (a {@code save_on_stop}
 * volume whose qube halts, a resize); a {@code snap_on_start} volume remembers in {@code snapshotOf}
 * which volume and revision it was taken from ({@code fedora:root@3}). When that is no longer its
 * origin's current one, the snapshot is outdated.
 *
 * @param name             {@code root}, {@code private}, {@code volatile}, {@code kernel}, or an extra one
 * @param pool             name of the {@link StoragePool} holding it
 * @param sizeBytes        size; 0 for the kernel
 * @param snapOnStart      made afresh from {@code source} at every start
 * @param saveOnStop       its content is committed when the qube stops
 * @param rw               writable by the qube
 * @param ephemeral        encrypted with a key thrown away at stop (volatile only, in practice)
 * @param source           {@code qube:volume} it is snapshotted from, "" when it has its own content
 * @param revision         revision of its committed content, from 1
 * @param snapshotOf       for a {@code snap_on_start} volume, {@code qube:volume@revision} of the origin it
 *                         was taken from; "" when none (never current)
 */
public record Volume(String name, String pool, long sizeBytes, boolean snapOnStart, boolean saveOnStop, boolean rw,
                     boolean ephemeral, String source, long revision, String snapshotOf) {

    public static final String ROOT = "root";
    public static final String PRIVATE = "private";
    public static final String VOLATILE = "volatile";
    public static final String KERNEL = "kernel";

    public Volume {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(snapshotOf, "snapshotOf");
        if (!name.matches("[a-z][a-z0-9_-]{0,31}")) {
            throw new IllegalArgumentException("invalid volume name '" + name + "'");
        }
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("size of volume " + name + " must not be negative, was " + sizeBytes);
        }
        if (snapOnStart && saveOnStop) {
            throw new IllegalArgumentException("volume " + name + " cannot be both snap_on_start and save_on_stop");
        }
        if (snapOnStart != !source.isEmpty()) {
            throw new IllegalArgumentException("volume " + name + ": a source is required exactly when"
                    + " snap_on_start is set (source '" + source + "')");
        }
        if (revision < 1) {
            throw new IllegalArgumentException("volume " + name + ": revision must be >= 1, was " + revision);
        }
    }

    /** The qube part of {@link #source}. */
    public String sourceQube() {
        int i = source.indexOf(':');
        return i < 0 ? "" : source.substring(0, i);
    }

    /** The volume part of {@link #source}. */
    public String sourceVolume() {
        int i = source.indexOf(':');
        return i < 0 ? "" : source.substring(i + 1);
    }

    public Volume withPool(String p) {
        return new Volume(name, p, sizeBytes, snapOnStart, saveOnStop, rw, ephemeral, source, revision,
                snapshotOf);
    }

    public Volume withSize(long bytes) {
        return new Volume(name, pool, bytes, snapOnStart, saveOnStop, rw, ephemeral, source, revision,
                snapshotOf);
    }

    public Volume withRw(boolean value) {
        return new Volume(name, pool, sizeBytes, snapOnStart, saveOnStop, value, ephemeral, source, revision,
                snapshotOf);
    }

    public Volume withEphemeral(boolean value) {
        return new Volume(name, pool, sizeBytes, snapOnStart, saveOnStop, rw, value, source, revision,
                snapshotOf);
    }

    public Volume withSource(String qubeAndVolume) {
        return new Volume(name, pool, sizeBytes, snapOnStart, saveOnStop, rw, ephemeral, qubeAndVolume, revision,
                snapshotOf);
    }

    /** The next revision: its committed content changed. */
    public Volume bumped() {
        return new Volume(name, pool, sizeBytes, snapOnStart, saveOnStop, rw, ephemeral, source, revision + 1,
                snapshotOf);
    }

    public Volume withSnapshotOf(String originAtRevision) {
        return new Volume(name, pool, sizeBytes, snapOnStart, saveOnStop, rw, ephemeral, source, revision,
                originAtRevision);
    }
}
