package dev.qrexec.dispvm.registry;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The properties a qube can have: which classes carry them, their defaults, and what a valid value
 * is. Values are strings; booleans are {@code True}/{@code False}, references a qube name or "".
 *
 * <p>Rules that need more than one qube (guards on {@code template_for_dispvms}, a dvm template's
 * TemplateVM while disposables run) live in {@link QubeRegistry}; this class validates one value.
 */
public final class PropertyRules {

    public static final String TRUE = "True";
    public static final String FALSE = "False";

    public static final String LABEL = "label";
    public static final String TEMPLATE = "template";
    public static final String NETVM = "netvm";
    public static final String DEFAULT_DISPVM = "default_dispvm";
    public static final String TEMPLATE_FOR_DISPVMS = "template_for_dispvms";
    public static final String AUTO_CLEANUP = "auto_cleanup";
    public static final String DISPID = "dispid";
    public static final String MEMORY = "memory";
    public static final String MAXMEM = "maxmem";
    public static final String VCPUS = "vcpus";
    public static final String QREXEC_TIMEOUT = "qrexec_timeout";
    public static final String GUIVM = "guivm";
    public static final String RELAYVM = "relayvm";
    public static final String TRANSPORT_RPC = "transport_rpc";
    public static final String DEBUG = "debug";
    public static final String INCLUDE_IN_BACKUPS = "include_in_backups";

    /** Computed or identity properties: readable, never settable. */
    public static final Set<String> READ_ONLY = Set.of("name", "klass", "qid", "uuid", "icon", DISPID);

    public static final Set<String> LABELS = Set.of("red", "orange", "yellow", "green", "gray", "blue",
            "purple", "black");

    private enum Kind { LABEL, BOOL, POSITIVE_INT, NON_NEGATIVE_INT, QUBE_REF, STRING }

    private record Def(Kind kind, Set<QubeClass> classes) {
    }

    private static final Set<QubeClass> ALL = EnumSet.allOf(QubeClass.class);
    private static final Set<QubeClass> DOMAINS = EnumSet.of(QubeClass.TEMPLATE_VM, QubeClass.APP_VM,
            QubeClass.DISP_VM, QubeClass.STANDALONE_VM);

    private static final Map<String, Def> DEFS = new TreeMap<>(Map.ofEntries(
            Map.entry(LABEL, new Def(Kind.LABEL, ALL)),
            Map.entry(TEMPLATE, new Def(Kind.QUBE_REF, EnumSet.of(QubeClass.APP_VM, QubeClass.DISP_VM))),
            Map.entry(NETVM, new Def(Kind.QUBE_REF, DOMAINS)),
            Map.entry(DEFAULT_DISPVM, new Def(Kind.QUBE_REF, ALL)),
            Map.entry(TEMPLATE_FOR_DISPVMS, new Def(Kind.BOOL, ALL)),
            Map.entry(AUTO_CLEANUP, new Def(Kind.BOOL, EnumSet.of(QubeClass.DISP_VM))),
            Map.entry(DISPID, new Def(Kind.NON_NEGATIVE_INT, EnumSet.of(QubeClass.DISP_VM))),
            Map.entry(MEMORY, new Def(Kind.POSITIVE_INT, DOMAINS)),
            Map.entry(MAXMEM, new Def(Kind.NON_NEGATIVE_INT, DOMAINS)),
            Map.entry(VCPUS, new Def(Kind.POSITIVE_INT, DOMAINS)),
            Map.entry(QREXEC_TIMEOUT, new Def(Kind.POSITIVE_INT, DOMAINS)),
            Map.entry(GUIVM, new Def(Kind.QUBE_REF, DOMAINS)),
            Map.entry(RELAYVM, new Def(Kind.QUBE_REF, EnumSet.of(QubeClass.REMOTE_VM))),
            Map.entry(TRANSPORT_RPC, new Def(Kind.STRING, EnumSet.of(QubeClass.REMOTE_VM))),
            Map.entry(DEBUG, new Def(Kind.BOOL, DOMAINS)),
            Map.entry(INCLUDE_IN_BACKUPS, new Def(Kind.BOOL, DOMAINS))));

    private PropertyRules() {
    }

    /** Names of the properties a qube of this class has (plus the read-only ones). */
    public static Set<String> namesFor(QubeClass klass) {
        Set<String> out = new java.util.TreeSet<>(Set.of("name", "klass", "qid", "uuid", "icon"));
        DEFS.forEach((name, def) -> {
            if (def.classes.contains(klass)) {
                out.add(name);
            }
        });
        return out;
    }

    /**
     * Checks and normalises a value for {@code property} on {@code qube}; references are checked to
     * name an existing qube (their class rules are the registry's). Returns the value to store.
     */
    public static String validate(RegistryState state, Qube qube, String property, String value) {
        if (READ_ONLY.contains(property)) {
            throw new RegistryException.NotAllowed("property '" + property + "' of " + qube.name() + " is read-only");
        }
        Def def = DEFS.get(property);
        if (def == null || !def.classes.contains(qube.klass())) {
            throw new RegistryException.InvalidValue("no property '" + property + "' on " + qube.klass() + " '"
                    + qube.name() + "'");
        }
        if (value == null) {
            throw new RegistryException.InvalidValue("value of '" + property + "' must not be null");
        }
        return switch (def.kind) {
            case LABEL -> {
                if (!LABELS.contains(value)) {
                    throw new RegistryException.InvalidValue("invalid label '" + value + "': expected one of "
                            + new java.util.TreeSet<>(LABELS));
                }
                yield value;
            }
            case BOOL -> parseBool(property, value) ? TRUE : FALSE;
            case POSITIVE_INT, NON_NEGATIVE_INT -> {
                long min = def.kind == Kind.POSITIVE_INT ? 1 : 0;
                if (!value.matches("[0-9]{1,9}") || Long.parseLong(value) < min) {
                    throw new RegistryException.InvalidValue("invalid " + property + " '" + value
                            + "': expected an integer >= " + min);
                }
                yield Long.toString(Long.parseLong(value));
            }
            case QUBE_REF -> {
                if (!value.isEmpty() && !state.qubes().containsKey(value)) {
                    throw new RegistryException.InvalidValue("invalid " + property + " '" + value
                            + "': no such qube");
                }
                yield value;
            }
            case STRING -> value;
        };
    }

    /** Qubes' boolean spellings: True/False, true/false, 1/0, yes/no, and "" for false. */
    public static boolean parseBool(String property, String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on":
                return true;
            case "false", "0", "no", "off", "":
                return false;
            default:
                throw new RegistryException.InvalidValue("invalid " + property + " '" + value
                        + "': expected True or False");
        }
    }

    /** The effective value: the explicit one, else the default (which may depend on other qubes). */
    static String effective(RegistryState state, Qube qube, String property) {
        switch (property) {
            case "name": return qube.name();
            case "klass": return qube.klass().typeName();
            case "qid": return Integer.toString(qube.domainId());
            case "uuid": return qube.uuid().toString();
            case "icon": return qube.klass().iconPrefix() + "-" + effective(state, qube, LABEL);
            default: break;
        }
        String explicit = qube.properties().get(property);
        if (explicit != null) {
            return explicit;
        }
        return switch (property) {
            case LABEL -> qube.klass() == QubeClass.ADMIN_VM || qube.klass() == QubeClass.TEMPLATE_VM
                    ? "black" : "red";
            case DEFAULT_DISPVM -> qube.klass() == QubeClass.DISP_VM
                    ? qube.properties().getOrDefault(TEMPLATE, "")
                    : state.systemDefaultDispvm().orElse("");
            case TEMPLATE_FOR_DISPVMS, DEBUG -> FALSE;
            case AUTO_CLEANUP -> FALSE;
            case INCLUDE_IN_BACKUPS -> TRUE.equals(effective(state, qube, AUTO_CLEANUP)) ? FALSE : TRUE;
            case MEMORY -> "400";
            case MAXMEM -> "4000";
            case VCPUS -> "2";
            case QREXEC_TIMEOUT -> "60";
            case GUIVM -> qube.klass() == QubeClass.ADMIN_VM || qube.klass() == QubeClass.REMOTE_VM ? "" : "dom0";
            default -> "";
        };
    }

    /** Whether a property exists on this class (for get/reset). */
    public static boolean exists(QubeClass klass, String property) {
        if (Set.of("name", "klass", "qid", "uuid", "icon").contains(property)) {
            return true;
        }
        Def def = DEFS.get(property);
        return def != null && def.classes.contains(klass);
    }
}
