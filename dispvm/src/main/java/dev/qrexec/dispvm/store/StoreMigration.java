package dev.qrexec.dispvm.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.Volume;
import dev.qrexec.dispvm.registry.Volumes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Upgrades stores written by older daemons. Schema 1 → 2: every qube gets the volumes its class has
 * (spec 1.3) in the default pool; a template's old storage revision becomes its volumes' revision; a
 * preload whose old digest no longer matched its template gets no snapshot record, so it is outdated
 * ({@code volumes_outdated}) exactly when the old check would have said so; the old features go.
 */
final class StoreMigration {

    private static final System.Logger LOG = System.getLogger(StoreMigration.class.getName());
    /** The old digest's ignore list (schema 1). */
    private static final Set<String> LEGACY_IGNORED = Set.of("autostart", "backup_timestamp",
            PropertyRules.DEFAULT_DISPVM, PropertyRules.DISPID, "icon", PropertyRules.INCLUDE_IN_BACKUPS, "name", "qid",
            "uuid", "klass", PropertyRules.TEMPLATE_FOR_DISPVMS);

    private StoreMigration() {
    }

    /** Makes a schema-1 tree readable as a schema-2 document (empty pools and volumes, filled by {@link #afterLoad}). */
    static void upgradeTree(ObjectNode tree) {
        tree.put("schema", StoreDocument.CURRENT_SCHEMA);
        ObjectNode copy = tree.deepCopy();
        tree.removeAll();
        // Keep the document's field order: pools go before qubes.
        copy.fields().forEachRemaining(e -> {
            if (e.getKey().equals("qubes")) {
                tree.putArray("pools");
            }
            tree.set(e.getKey(), e.getValue());
        });
        for (JsonNode q : tree.path("qubes")) {
            if (q instanceof ObjectNode o && !o.has("volumes")) {
                o.putArray("volumes");
            }
        }
    }

    /** Fills in what a schema-1 store lacked; {@code s} as read from the upgraded tree. */
    static RegistryState afterLoad(RegistryState s) {
        RegistryState out = new RegistryState(s.generation(), s.qubes(), s.system(), s.nextDomainId(),
                s.recentDispids(), s.pools().isEmpty() ? RegistryState.defaultPools() : s.pools());
        Map<String, String> legacyStamps = new TreeMap<>();
        for (Qube q : s.qubes().values()) {
            if (s.isDispvmTemplate(q.name())) {
                legacyStamps.put(q.name(), legacyStamp(s, q));
            }
        }
        // Sources first: templates and standalones, then app qubes, then disposables.
        for (QubeClass k : List.of(QubeClass.TEMPLATE_VM, QubeClass.STANDALONE_VM, QubeClass.APP_VM,
                QubeClass.DISP_VM)) {
            for (Qube q : s.qubes().values()) {
                if (q.klass() == k && q.volumes().isEmpty()) {
                    out = out.with(withVolumes(out, q, legacyStamps));
                }
            }
        }
        for (Qube q : out.qubes().values()) {
            if (q.features().containsKey(Features.LEGACY_PRELOAD_ORIGIN)
                    || q.features().containsKey(Features.LEGACY_STORAGE_REVISION)) {
                out = out.with(q.withoutFeature(Features.LEGACY_PRELOAD_ORIGIN)
                        .withoutFeature(Features.LEGACY_STORAGE_REVISION));
            }
        }
        LOG.log(System.Logger.Level.INFO, "store migrated from schema 1: {0} qubes got volumes", out.qubes().size());
        return out;
    }

    private static Qube withVolumes(RegistryState s, Qube q, Map<String, String> legacyStamps) {
        if (q.klass() == QubeClass.DISP_VM) {
            String dvm = q.properties().getOrDefault(PropertyRules.TEMPLATE, "");
            if (s.find(dvm).isEmpty() || s.get(dvm).volumes().isEmpty()) {
                return q;
            }
            Qube d = q.withVolumes(Volumes.forDisposable(s, s.get(dvm)));
            String old = q.features().get(Features.LEGACY_PRELOAD_ORIGIN);
            boolean current = old == null || old.equals(legacyStamps.get(dvm));
            return current ? Volumes.snapshotTaken(s, d) : d;
        }
        String tvm = q.properties().getOrDefault(PropertyRules.TEMPLATE, "");
        if (q.klass() == QubeClass.APP_VM && s.find(tvm).isEmpty()) {
            return q;
        }
        Qube n = q.withVolumes(Volumes.forNewQube(s, q.klass(), tvm, Map.of()));
        long bumps = Long.parseLong(q.features().getOrDefault(Features.LEGACY_STORAGE_REVISION, "0"));
        for (Volume v : n.volumes().values()) {
            if (v.saveOnStop()) {
                Volume b = v;
                for (long i = 0; i < bumps; i++) {
                    b = b.bumped();
                }
                n = n.withVolume(b);
            }
        }
        return Volumes.snapshotTaken(s, n);
    }

    /** The schema-1 digest of a dvm template (its explicit properties and storage revisions). */
    private static String legacyStamp(RegistryState s, Qube t) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> p : t.properties().entrySet()) {
            if (!LEGACY_IGNORED.contains(p.getKey())) {
                b.append(p.getKey()).append('=').append(p.getValue()).append('\n');
            }
        }
        b.append("revision=").append(t.features().getOrDefault(Features.LEGACY_STORAGE_REVISION, "0")).append('\n');
        String tvm = t.properties().get(PropertyRules.TEMPLATE);
        if (tvm != null) {
            b.append("templatevm-revision=").append(s.find(tvm)
                    .map(q -> q.features().getOrDefault(Features.LEGACY_STORAGE_REVISION, "0")).orElse("gone"));
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
