package dev.qrexec.dispvm.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The changes the registry accepts, each a pure function of a state, enforcing the rules that span
 * several qubes (spec 1.5, 1.6). {@code running} tells whether a qube is not halted (runtime, from
 * the hypervisor); {@code isPreload} whether a disposable is a preload (in a queue or being claimed).
 */
public final class Mutations {

    private static final String NAME_PATTERN = "[A-Za-z][A-Za-z0-9_.-]{0,30}";
    /** Properties a fresh disposable copies from its dvm template when set there explicitly. */
    private static final List<String> CLONED = List.of(PropertyRules.LABEL, PropertyRules.NETVM,
            PropertyRules.MEMORY, PropertyRules.MAXMEM, PropertyRules.VCPUS, PropertyRules.QREXEC_TIMEOUT,
            PropertyRules.GUIVM, PropertyRules.DEBUG);

    private Mutations() {
    }

    public static void checkName(String name) {
        if (name == null || !name.matches(NAME_PATTERN)) {
            throw new RegistryException.InvalidValue("invalid qube name '" + name
                    + "': 1 to 31 characters, a letter first, then letters, digits, '_', '-' or '.'");
        }
    }

    /** Adds a non-disposable qube with its volumes in the default pool. */
    public static RegistryState createQube(RegistryState s, String name, QubeClass klass, Map<String, String> props) {
        return createQube(s, name, klass, props, Map.of());
    }

    /**
     * Adds a non-disposable qube. Properties are validated as if set one by one; {@code pools} places
     * volumes (volume name → pool), the others go to the default pool or follow their snapshot source.
     */
    public static RegistryState createQube(RegistryState s, String name, QubeClass klass, Map<String, String> props,
                                           Map<String, String> pools) {
        checkName(name);
        if (s.qubes().containsKey(name)) {
            throw new RegistryException.AlreadyExists(name);
        }
        if (klass == QubeClass.ADMIN_VM) {
            throw new RegistryException.NotAllowed("there is exactly one AdminVM (dom0)");
        }
        if (klass == QubeClass.DISP_VM) {
            throw new RegistryException.NotAllowed("create disposables with createDisposable");
        }
        if (klass == QubeClass.APP_VM && !props.containsKey(PropertyRules.TEMPLATE)) {
            throw new RegistryException.InvalidValue("an AppVM needs a template (a TemplateVM)");
        }
        int id = s.freeDomainId();
        Qube q = Qube.create(name, klass, id, UUID.randomUUID());
        RegistryState next = s.with(q).withNextDomainId(id + 1);
        for (Map.Entry<String, String> e : props.entrySet()) {
            next = setProperty(next, name, e.getKey(), e.getValue(), n -> false, n -> false);
        }
        Qube created = next.get(name);
        created = created.withVolumes(Volumes.forNewQube(next, klass,
                created.properties().getOrDefault(PropertyRules.TEMPLATE, ""), pools));
        return next.with(Volumes.snapshotTaken(next, created));
    }

    /** A state with a new disposable in it, and that disposable's name. */
    public record Created(RegistryState state, String name) {
    }

    /**
     * Adds a halted disposable of {@code dvmTemplate}: a dispid is allocated; it is named
     * {@code disp<id>} with {@code auto_cleanup} True unless a name is given (then False). Clones the
     * template's explicit cloneable properties, its features except {@code preload-dispvm*}, and its
     * tags; then sets {@code features}.
     */
    public static Created createDisposable(RegistryState s, String dvmTemplate, Optional<String> name,
                                           long nowMillis, Map<String, String> features) {
        Qube tpl = s.get(dvmTemplate);
        if (!s.isDispvmTemplate(dvmTemplate)) {
            throw new RegistryException.InvalidValue("'" + dvmTemplate + "' is not a disposable template"
                    + " (template_for_dispvms is not True)");
        }
        name.ifPresent(Mutations::checkName);
        if (name.isPresent() && s.qubes().containsKey(name.get())) {
            throw new RegistryException.AlreadyExists(name.get());
        }
        int dispid = DispIds.allocate(s, nowMillis);
        String n = name.orElse("disp" + dispid);
        if (s.qubes().containsKey(n)) {
            throw new RegistryException.AlreadyExists(n);
        }
        int id = s.freeDomainId();
        Qube q = Qube.create(n, QubeClass.DISP_VM, id, UUID.randomUUID())
                .withProperty(PropertyRules.TEMPLATE, dvmTemplate)
                .withProperty(PropertyRules.DISPID, Integer.toString(dispid))
                .withProperty(PropertyRules.AUTO_CLEANUP, name.isEmpty() ? PropertyRules.TRUE : PropertyRules.FALSE);
        for (String p : CLONED) {
            Optional<String> v = tpl.explicitProperty(p);
            if (v.isPresent()) {
                q = q.withProperty(p, v.get());
            }
        }
        for (Map.Entry<String, String> f : tpl.features().entrySet()) {
            if (!f.getKey().startsWith("preload-dispvm")) {
                q = q.withFeature(f.getKey(), f.getValue());
            }
        }
        for (String t : tpl.tags()) {
            q = q.withTag(t);
        }
        for (Map.Entry<String, String> f : features.entrySet()) {
            q = q.withFeature(f.getKey(), f.getValue());
        }
        q = Volumes.snapshotTaken(s, q.withVolumes(Volumes.forDisposable(s, tpl)));
        return new Created(s.with(q).withNextDomainId(id + 1), n);
    }

    /** Sets a property, enforcing the single-value rules and the cross-qube guards. */
    public static RegistryState setProperty(RegistryState s, String name, String property, String value,
                                            Predicate<String> running, Predicate<String> isPreload) {
        Qube q = s.get(name);
        String v = PropertyRules.validate(s, q, property, value);
        String old = s.property(q, property);
        switch (property) {
            case PropertyRules.TEMPLATE -> checkTemplate(s, q, v, running, isPreload);
            case PropertyRules.DEFAULT_DISPVM -> {
                if (!v.isEmpty() && !s.isDispvmTemplate(v)) {
                    throw new RegistryException.InvalidValue("default_dispvm of " + name + " must be a disposable"
                            + " template; '" + v + "' has template_for_dispvms False");
                }
            }
            case PropertyRules.TEMPLATE_FOR_DISPVMS -> {
                if (q.klass() != QubeClass.APP_VM && PropertyRules.TRUE.equals(v)) {
                    throw new RegistryException.NotAllowed("only an AppVM can be a disposable template, "
                            + name + " is a " + q.klass());
                }
                if (PropertyRules.TRUE.equals(old) && PropertyRules.FALSE.equals(v)) {
                    checkNoDependents(s, name, isPreload, "turn off template_for_dispvms of");
                }
            }
            case PropertyRules.NETVM, PropertyRules.GUIVM, PropertyRules.RELAYVM -> {
                if (v.equals(name)) {
                    throw new RegistryException.InvalidValue(property + " of " + name + " cannot be itself");
                }
            }
            default -> { }
        }
        if (v.equals(q.properties().get(property))) {
            return s;
        }
        Qube changed = q.withProperty(property, v);
        if (PropertyRules.TEMPLATE.equals(property) && !v.equals(old)) {
            // Spec 1.2 / section 5 item 6: snapshots follow the new template from the next start on.
            changed = Volumes.repointed(s, changed, v);
        }
        return s.with(changed);
    }

    /** Resets a property to its default. */
    public static RegistryState resetProperty(RegistryState s, String name, String property, Predicate<String> isPreload) {
        Qube q = s.get(name);
        if (!PropertyRules.exists(q.klass(), property) || PropertyRules.READ_ONLY.contains(property)) {
            throw new RegistryException.InvalidValue("cannot reset '" + property + "' of " + name);
        }
        if (PropertyRules.TEMPLATE.equals(property)) {
            throw new RegistryException.NotAllowed("cannot unset template of " + name);
        }
        if (PropertyRules.TEMPLATE_FOR_DISPVMS.equals(property) && s.isDispvmTemplate(name)) {
            checkNoDependents(s, name, isPreload, "turn off template_for_dispvms of");
        }
        if (!q.properties().containsKey(property)) {
            return s;
        }
        return s.with(q.withoutProperty(property));
    }

    public static RegistryState setSystemDefaultDispvm(RegistryState s, String value) {
        if (!value.isEmpty() && !s.isDispvmTemplate(value)) {
            throw new RegistryException.InvalidValue("system default_dispvm must be a disposable template; '"
                    + value + "' is not");
        }
        if (value.equals(s.systemDefaultDispvm().orElse(""))) {
            return s;
        }
        return s.withSystem(RegistryState.SYSTEM_DEFAULT_DISPVM, value);
    }

    /** Removes a halted qube; refuses while something that is not a preload depends on it. */
    public static RegistryState removeQube(RegistryState s, String name, Predicate<String> running,
                                           Predicate<String> isPreload, long nowMillis) {
        Qube q = s.get(name);
        if (q.klass() == QubeClass.ADMIN_VM) {
            throw new RegistryException.NotAllowed("cannot remove dom0");
        }
        if (running.test(name)) {
            throw new RegistryException.NotAllowed("cannot remove " + name + ": it is running; kill it first");
        }
        checkNoDependents(s, name, isPreload, "remove");
        RegistryState next = s.without(name);
        String dispid = q.properties().get(PropertyRules.DISPID);
        if (dispid != null) {
            next = DispIds.release(next, Integer.parseInt(dispid), nowMillis, DispIds.REUSE_WINDOW);
        }
        return next;
    }

    /** Refuses when the system or a non-preload qube references {@code name}; self-references are fine. */
    static void checkNoDependents(RegistryState s, String name, Predicate<String> isPreload, String action) {
        List<String> users = new ArrayList<>();
        if (name.equals(s.systemDefaultDispvm().orElse(null))) {
            users.add("the system (default_dispvm)");
        }
        for (Qube other : s.qubes().values()) {
            if (other.name().equals(name) || isPreload.test(other.name())) {
                continue;
            }
            for (String p : Set.of(PropertyRules.TEMPLATE, PropertyRules.DEFAULT_DISPVM, PropertyRules.NETVM,
                    PropertyRules.GUIVM)) {
                if (name.equals(other.properties().get(p))) {
                    users.add(other.name() + " (" + p + ")");
                }
            }
        }
        if (!users.isEmpty()) {
            throw new RegistryException.InUse("cannot " + action + " " + name + ": used by " + String.join(", ", users));
        }
    }

    private static void checkTemplate(RegistryState s, Qube q, String v, Predicate<String> running,
                                      Predicate<String> isPreload) {
        if (q.klass() == QubeClass.DISP_VM) {
            if (!s.isDispvmTemplate(v)) {
                throw new RegistryException.InvalidValue("template of disposable " + q.name()
                        + " must be a disposable template; '" + v + "' is not");
            }
            if (running.test(q.name())) {
                throw new RegistryException.NotAllowed("cannot change template of " + q.name() + " while it runs");
            }
            return;
        }
        Qube t = s.get(v);
        if (t.klass() != QubeClass.TEMPLATE_VM) {
            throw new RegistryException.InvalidValue("template of " + q.name() + " must be a TemplateVM; '" + v
                    + "' is a " + t.klass());
        }
        if (running.test(q.name())) {
            throw new RegistryException.NotAllowed("cannot change template of " + q.name() + " while it runs");
        }
        for (Qube d : s.dispvmsOf(q.name())) {
            if (running.test(d.name()) && !isPreload.test(d.name())) {
                throw new RegistryException.InUse("cannot change template of " + q.name() + ": disposable "
                        + d.name() + " is running");
            }
        }
    }
}
