package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryState;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * The "outdated" check of spec 2.7, as a stamp: a digest of what a preload inherited from its dvm
 * template (the template's properties outside the ignore list, its TemplateVM, and the storage
 * revisions of both). A preload whose stamp differs from its template's current one is outdated.
 */
public final class Outdated {

    /** Properties whose change does not make a preload outdated (spec 2.7's ignore list, our names). */
    static final Set<String> IGNORED = Set.of("autostart", "backup_timestamp", PropertyRules.DEFAULT_DISPVM,
            PropertyRules.DISPID, "icon", PropertyRules.INCLUDE_IN_BACKUPS, "name", "qid", "uuid", "klass",
            PropertyRules.TEMPLATE_FOR_DISPVMS);

    private Outdated() {
    }

    /** The stamp a preload created now from {@code template} would carry. */
    public static String stamp(RegistryState s, String template) {
        Qube t = s.get(template);
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> p : t.properties().entrySet()) {
            if (!IGNORED.contains(p.getKey())) {
                b.append(p.getKey()).append('=').append(p.getValue()).append('\n');
            }
        }
        b.append("revision=").append(t.features().getOrDefault(Features.STORAGE_REVISION, "0")).append('\n');
        String tvm = t.properties().get(PropertyRules.TEMPLATE);
        if (tvm != null) {
            b.append("templatevm-revision=").append(s.find(tvm)
                    .map(q -> q.features().getOrDefault(Features.STORAGE_REVISION, "0")).orElse("gone"));
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(b.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Whether the preload {@code qube} no longer matches its template. */
    public static boolean isOutdated(RegistryState s, Qube qube, String currentStamp) {
        return !currentStamp.equals(qube.features().get(Features.PRELOAD_ORIGIN));
    }
}
