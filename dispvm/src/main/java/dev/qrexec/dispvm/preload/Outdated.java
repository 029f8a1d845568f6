package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.Volume;
import dev.qrexec.dispvm.registry.Volumes;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The "outdated" check of spec 2.7: does a preload still look like what its dvm template would make
 * now? First match wins: the private volume's size differs ({@code volumes_size}); a snapshot is no
 * longer taken from its origin's current revision ({@code volumes_outdated}); a property present on
 * both differs, outside the ignore list ({@code properties}). The answer is data: the reason and what
 * caused it.
 */
public final class Outdated {

    /** Why a preload is outdated, as Qubes names it. */
    public enum Kind {
        VOLUMES_SIZE("volumes_size"),
        VOLUMES_OUTDATED("volumes_outdated"),
        PROPERTIES("properties"),
        /** Its dvm template is gone or is no dvm template any more (Qubes cannot get here). */
        TEMPLATE_GONE("template_gone");

        private final String qubesName;

        Kind(String qubesName) {
            this.qubesName = qubesName;
        }

        public String qubesName() {
            return qubesName;
        }
    }

    /**
     * @param kind    the first rule that matched
     * @param details volume or property names behind it
     */
    public record Reason(Kind kind, List<String> details) {
        public Reason {
            Objects.requireNonNull(kind, "kind");
            details = List.copyOf(details);
        }

        @Override
        public String toString() {
            return kind.qubesName() + (details.isEmpty() ? "" : " " + details);
        }
    }

    /** Properties whose difference does not make a preload outdated (spec 2.7's ignore list, our names). */
    static final Set<String> IGNORED = Set.of("autostart", "backup_timestamp", PropertyRules.DEFAULT_DISPVM,
            PropertyRules.DISPID, "icon", PropertyRules.INCLUDE_IN_BACKUPS, "name", "qid", "uuid", "klass",
            PropertyRules.TEMPLATE, PropertyRules.TEMPLATE_FOR_DISPVMS);

    private Outdated() {
    }

    /** Why {@code preload} is outdated in {@code s}; empty when it is current. */
    public static Optional<Reason> check(RegistryState s, Qube preload) {
        String template = preload.properties().getOrDefault(PropertyRules.TEMPLATE, "");
        Optional<Qube> t = s.find(template);
        if (t.isEmpty() || !s.isDispvmTemplate(template)) {
            return Optional.of(new Reason(Kind.TEMPLATE_GONE, List.of(template)));
        }
        long mine = preload.volume(Volume.PRIVATE).map(Volume::sizeBytes).orElse(-1L);
        long theirs = t.get().volume(Volume.PRIVATE).map(Volume::sizeBytes).orElse(-1L);
        if (mine != theirs) {
            return Optional.of(new Reason(Kind.VOLUMES_SIZE, List.of(Volume.PRIVATE)));
        }
        List<String> stale = Volumes.outdated(s, preload);
        if (!stale.isEmpty()) {
            return Optional.of(new Reason(Kind.VOLUMES_OUTDATED, stale));
        }
        Set<String> names = new TreeSet<>(PropertyRules.namesFor(preload.klass()));
        names.retainAll(PropertyRules.namesFor(t.get().klass()));
        names.removeAll(IGNORED);
        List<String> differ = new ArrayList<>();
        for (String p : names) {
            if (!s.property(preload, p).equals(s.property(t.get(), p))) {
                differ.add(p);
            }
        }
        return differ.isEmpty() ? Optional.empty() : Optional.of(new Reason(Kind.PROPERTIES, differ));
    }

    public static boolean isOutdated(RegistryState s, Qube preload) {
        return check(s, preload).isPresent();
    }
}
