package dev.qrexec.dispvm.registry;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The volume rules of spec 1.3 as pure functions: the layout each class of qube gets, where a snapshot's
 * data comes from, what a halt or a resize does to revisions, and which snapshots are outdated.
 *
 * <p>Layouts (Qubes' defaults; sizes in bytes):
 * <pre>
 *               root                    private                 volatile      kernel
 * TemplateVM    own, save_on_stop       own, save_on_stop       fresh         read-only
 * StandaloneVM  own, save_on_stop       own, save_on_stop       fresh         read-only
 * AppVM         snap of template:root   own, save_on_stop       fresh         read-only
 * DispVM        snap of dvm:root        snap of dvm:private     fresh (22G)   read-only
 * </pre>
 * A disposable's volumes take the dvm template's pool, {@code rw}, and {@code ephemeral} when the dvm
 * template's volume is ephemeral; its root resolves through the dvm template to the TemplateVM's root.
 */
public final class Volumes {

    public static final long GIB = 1L << 30;
    public static final long DEFAULT_ROOT_SIZE = 20 * GIB;
    public static final long DEFAULT_PRIVATE_SIZE = 2 * GIB;
    /** A disposable's volatile holds what would have gone to root and private: their default sizes. */
    public static final long DISPOSABLE_VOLATILE_SIZE = DEFAULT_ROOT_SIZE + DEFAULT_PRIVATE_SIZE;

    /** A volume of a named qube, as {@link #origin} resolves it. */
    public record Located(String qube, Volume volume) {
        /** {@code qube:volume@revision}: what a snapshot taken now records. */
        public String stamp() {
            return qube + ":" + volume.name() + "@" + volume.revision();
        }
    }

    private Volumes() {
    }

    /**
     * The volumes of a new qube of {@code klass} ({@code template}: its TemplateVM, "" when none);
     * {@code pools} chooses a pool per volume name, the rest go to the default pool (snapshots: their
     * source's pool).
     */
    public static Map<String, Volume> forNewQube(RegistryState s, QubeClass klass, String template,
                                                 Map<String, String> pools) {
        Map<String, Volume> out = new TreeMap<>();
        if (klass == QubeClass.ADMIN_VM || klass == QubeClass.REMOTE_VM) {
            if (!pools.isEmpty()) {
                throw new RegistryException.InvalidValue("a " + klass.typeName() + " has no volumes to place in pools");
            }
            return out;
        }
        for (String v : pools.keySet()) {
            if (!List.of(Volume.ROOT, Volume.PRIVATE, Volume.VOLATILE, Volume.KERNEL).contains(v)) {
                throw new RegistryException.InvalidValue("no volume '" + v + "': expected root, private, volatile or"
                        + " kernel");
            }
        }
        boolean ownRoot = klass != QubeClass.APP_VM;
        if (ownRoot) {
            out.put(Volume.ROOT, own(Volume.ROOT, pool(s, pools, Volume.ROOT, StoragePool.DEFAULT), DEFAULT_ROOT_SIZE));
        } else {
            Qube t = s.get(template);
            Volume src = t.volume(Volume.ROOT).orElseThrow(() -> new RegistryException.InvalidValue("template "
                    + template + " has no root volume"));
            out.put(Volume.ROOT, snapshot(s, Volume.ROOT, pool(s, pools, Volume.ROOT, src.pool()), src.sizeBytes(),
                    true, false, template + ":" + Volume.ROOT));
        }
        out.put(Volume.PRIVATE, own(Volume.PRIVATE, pool(s, pools, Volume.PRIVATE, StoragePool.DEFAULT),
                DEFAULT_PRIVATE_SIZE));
        out.put(Volume.VOLATILE, new Volume(Volume.VOLATILE, pool(s, pools, Volume.VOLATILE, StoragePool.DEFAULT),
                DEFAULT_ROOT_SIZE, false, false, true, false, "", 1, ""));
        out.put(Volume.KERNEL, kernel(pool(s, pools, Volume.KERNEL, StoragePool.KERNELS)));
        return out;
    }

    /** The volumes of a new disposable of {@code dvm} (spec 1.3; section 5 items 5 and 6). */
    public static Map<String, Volume> forDisposable(RegistryState s, Qube dvm) {
        Map<String, Volume> out = new TreeMap<>();
        Volume root = require(dvm, Volume.ROOT);
        Volume priv = require(dvm, Volume.PRIVATE);
        out.put(Volume.ROOT, snapshot(s, Volume.ROOT, root.pool(), root.sizeBytes(), root.rw(), false,
                dvm.name() + ":" + Volume.ROOT));
        out.put(Volume.PRIVATE, snapshot(s, Volume.PRIVATE, priv.pool(), priv.sizeBytes(), priv.rw(), false,
                dvm.name() + ":" + Volume.PRIVATE));
        Optional<Volume> vol = dvm.volume(Volume.VOLATILE);
        out.put(Volume.VOLATILE, new Volume(Volume.VOLATILE, vol.map(Volume::pool).orElse(StoragePool.DEFAULT),
                DISPOSABLE_VOLATILE_SIZE, false, false, vol.map(Volume::rw).orElse(true),
                vol.map(Volume::ephemeral).orElse(false), "", 1, ""));
        out.put(Volume.KERNEL, kernel(dvm.volume(Volume.KERNEL).map(Volume::pool).orElse(StoragePool.KERNELS)));
        return out;
    }

    /**
     * Where the data of {@code qube}'s volume really lives: the volume itself, or for a snapshot the
     * first volume down its source chain that has its own content. Empty when the chain is broken
     * (a source qube or volume is gone) or loops.
     */
    public static Optional<Located> origin(RegistryState s, String qube, String volume) {
        Set<String> seen = new HashSet<>();
        String q = qube;
        String v = volume;
        while (seen.add(q + ":" + v)) {
            String vol = v;
            Optional<Volume> cur = s.find(q).flatMap(x -> x.volume(vol));
            if (cur.isEmpty()) {
                return Optional.empty();
            }
            if (!cur.get().snapOnStart()) {
                return Optional.of(new Located(q, cur.get()));
            }
            String nq = cur.get().sourceQube();
            String nv = cur.get().sourceVolume();
            q = nq;
            v = nv;
        }
        return Optional.empty();
    }

    /** {@code q} with every snapshot recorded as taken from its origin's current revision. */
    public static Qube snapshotTaken(RegistryState s, Qube q) {
        Qube out = q;
        for (Volume v : q.volumes().values()) {
            if (v.snapOnStart()) {
                out = out.withVolume(v.withSnapshotOf(sourceOrigin(s, v).map(Located::stamp).orElse("")));
            }
        }
        return out;
    }

    /** The snapshots of {@code q} whose origin moved on since they were taken (or whose origin is gone). */
    public static List<String> outdated(RegistryState s, Qube q) {
        List<String> out = new ArrayList<>();
        for (Volume v : q.volumes().values()) {
            if (v.snapOnStart() && (v.snapshotOf().isEmpty()
                    || !v.snapshotOf().equals(sourceOrigin(s, v).map(Located::stamp).orElse("")))) {
                out.add(v.name());
            }
        }
        return out;
    }

    /**
     * {@code q}, whose template is now {@code template}, with its snapshot volumes re-pointed at the
     * new template's volumes (size following the new source), so the next start snapshots those.
     */
    static Qube repointed(RegistryState s, Qube q, String template) {
        Qube out = q;
        Optional<Qube> t = s.find(template);
        for (Volume v : q.volumes().values()) {
            if (!v.snapOnStart()) {
                continue;
            }
            Optional<Volume> src = t.flatMap(x -> x.volume(v.name()));
            Volume n = v.withSource(template + ":" + v.name());
            if (src.isPresent()) {
                n = n.withSize(src.get().sizeBytes());
            }
            out = out.withVolume(n);
        }
        return snapshotTaken(s, out);
    }

    /** The origin of a snapshot volume's source (works for a qube not in {@code s} yet). */
    private static Optional<Located> sourceOrigin(RegistryState s, Volume snapshot) {
        return origin(s, snapshot.sourceQube(), snapshot.sourceVolume());
    }

    /**
     * A qube halted: what its {@code save_on_stop} volumes held is committed, so each gets a new revision
     * (snapshots taken from them before are outdated: spec 2.9 domain-shutdown rows, section 5 item 35).
     * The same state when it has none.
     */
    public static RegistryState committedOnStop(RegistryState s, String qube) {
        Optional<Qube> q = s.find(qube);
        if (q.isEmpty()) {
            return s;
        }
        Qube out = q.get();
        for (Volume v : q.get().volumes().values()) {
            if (v.saveOnStop()) {
                out = out.withVolume(v.bumped());
            }
        }
        return out == q.get() ? s : s.with(out);
    }

    /** Grows a volume (Qubes refuses to shrink); its revision moves on (section 5 item 36). */
    public static RegistryState resize(RegistryState s, String qube, String volume, long sizeBytes) {
        Qube q = s.get(qube);
        Volume v = q.volume(volume).orElseThrow(() -> noVolume(qube, volume));
        if (!v.rw()) {
            throw new RegistryException.NotAllowed("volume " + qube + ":" + volume + " is read-only; cannot resize it");
        }
        if (sizeBytes < v.sizeBytes()) {
            throw new RegistryException.InvalidValue("cannot shrink " + qube + ":" + volume + " from " + v.sizeBytes()
                    + " to " + sizeBytes + " bytes");
        }
        if (sizeBytes == v.sizeBytes()) {
            return s;
        }
        return s.with(q.withVolume(v.withSize(sizeBytes).bumped()));
    }

    /**
     * Sets {@code rw} or {@code ephemeral} of a volume of a halted qube ({@code admin.vm.volume.Set.*});
     * ephemeral only makes sense for a volume that is neither saved nor snapshotted.
     */
    public static RegistryState setFlag(RegistryState s, String qube, String volume, String flag, boolean value) {
        Qube q = s.get(qube);
        Volume v = q.volume(volume).orElseThrow(() -> noVolume(qube, volume));
        Volume n = switch (flag) {
            case "rw" -> v.withRw(value);
            case "ephemeral" -> {
                if (value && (v.saveOnStop() || v.snapOnStart())) {
                    throw new RegistryException.InvalidValue("volume " + qube + ":" + volume + " keeps data across"
                            + " starts; only a fresh volume (volatile) can be ephemeral");
                }
                yield v.withEphemeral(value);
            }
            default -> throw new RegistryException.InvalidValue("unknown volume setting '" + flag
                    + "': expected rw or ephemeral");
        };
        return n.equals(v) ? s : s.with(q.withVolume(n));
    }

    private static Volume own(String name, String pool, long size) {
        return new Volume(name, pool, size, false, true, true, false, "", 1, "");
    }

    private static Volume kernel(String pool) {
        return new Volume(Volume.KERNEL, pool, 0, false, false, false, false, "", 1, "");
    }

    private static Volume snapshot(RegistryState s, String name, String pool, long size, boolean rw, boolean eph,
                                   String source) {
        requirePool(s, pool);
        return new Volume(name, pool, size, true, false, rw, eph, source, 1, "");
    }

    private static String pool(RegistryState s, Map<String, String> chosen, String volume, String fallback) {
        String p = chosen.getOrDefault(volume, fallback);
        requirePool(s, p);
        return p;
    }

    private static void requirePool(RegistryState s, String pool) {
        if (!s.pools().containsKey(pool)) {
            throw new RegistryException.InvalidValue("no storage pool '" + pool + "' (pools: " + s.pools().keySet() + ")");
        }
    }

    private static Volume require(Qube q, String volume) {
        return q.volume(volume).orElseThrow(() -> noVolume(q.name(), volume));
    }

    private static RegistryException noVolume(String qube, String volume) {
        return new RegistryException.InvalidValue(qube + " has no volume '" + volume + "'");
    }
}
