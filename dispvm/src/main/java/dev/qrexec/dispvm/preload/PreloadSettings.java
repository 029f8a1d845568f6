package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * How the preload features read (spec 1.7-1.9): parsing and validation of {@code preload-dispvm-max},
 * {@code -delay}, {@code -threshold} and the queue itself, and the effective maximum with dom0's
 * global value taking precedence for the system {@code default_dispvm}.
 */
public final class PreloadSettings {

    public static final double DEFAULT_DELAY_SECONDS = 3;
    private static final long MIB = 1L << 20;

    private PreloadSettings() {
    }

    /** {@code preload-dispvm-max}: digits, "" = 0. */
    public static int parseMax(String value) {
        if (value.isEmpty()) {
            return 0;
        }
        if (!value.matches("[0-9]{1,6}")) {
            throw new RegistryException.InvalidValue("invalid preload-dispvm-max '" + value
                    + "': expected a non-negative integer (or empty for 0)");
        }
        return Integer.parseInt(value);
    }

    /** {@code preload-dispvm-delay}: a decimal number of seconds, may be negative; "" = absent. */
    public static Optional<Double> parseDelay(String value) {
        if (value.isEmpty()) {
            return Optional.empty();
        }
        if (!value.matches("-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)")) {
            throw new RegistryException.InvalidValue("invalid preload-dispvm-delay '" + value
                    + "': expected a number of seconds such as 3, 0.5 or -1");
        }
        return Optional.of(Double.parseDouble(value));
    }

    /** {@code preload-dispvm-threshold} in MiB: digits, "" = 0. Returns bytes. */
    public static long parseThresholdBytes(String value) {
        if (value.isEmpty()) {
            return 0;
        }
        if (!value.matches("[0-9]{1,9}")) {
            throw new RegistryException.InvalidValue("invalid preload-dispvm-threshold '" + value
                    + "': expected a non-negative number of MiB");
        }
        return Long.parseLong(value) * MIB;
    }

    /** Whether dom0's global maximum governs {@code template} (it is the system default and the feature exists). */
    public static boolean globalApplies(RegistryState s, String template) {
        return template.equals(s.systemDefaultDispvm().orElse(null))
                && s.get("dom0").feature(Features.PRELOAD_DISPVM_MAX).isPresent();
    }

    /** The effective queue length of {@code template} (1.9); 0 for a qube that is not a dvm template. */
    public static int effectiveMax(RegistryState s, String template) {
        if (!s.isDispvmTemplate(template)) {
            return 0;
        }
        if (globalApplies(s, template)) {
            return lenientMax(s.get("dom0").features().get(Features.PRELOAD_DISPVM_MAX));
        }
        return lenientMax(s.get(template).features().get(Features.PRELOAD_DISPVM_MAX));
    }

    /**
     * Templates with preloading enabled (spec 1.9; Qubes' boot script and host resume use this):
     * dvm templates where {@code (T != D and L > 0) or (T == D and G > 0) or (G absent and L > 0)}.
     * An empty global value disables the system default's local value.
     */
    public static List<String> preloadEnabled(RegistryState s) {
        Optional<String> g = s.get("dom0").feature(Features.PRELOAD_DISPVM_MAX);
        String d = s.systemDefaultDispvm().orElse(null);
        List<String> out = new java.util.ArrayList<>();
        for (String t : s.qubes().keySet()) {
            if (!s.isDispvmTemplate(t)) {
                continue;
            }
            int local = lenientMax(s.get(t).features().get(Features.PRELOAD_DISPVM_MAX));
            boolean isDefault = t.equals(d);
            if (!isDefault && local > 0 || isDefault && g.isPresent() && lenientMax(g.get()) > 0
                    || g.isEmpty() && local > 0) {
                out.add(t);
            }
        }
        return out;
    }

    /** dom0's global value (0 when absent) differs from the template's local one. */
    public static boolean globalDistinct(RegistryState s, String template) {
        int g = lenientMax(s.get("dom0").features().get(Features.PRELOAD_DISPVM_MAX));
        return g != lenientMax(s.find(template).map(q -> q.features().get(Features.PRELOAD_DISPVM_MAX)).orElse(null));
    }

    /** Delay before a refill after a use: template, then dom0, then 3 s. Negative means "only when empty". */
    public static double delaySeconds(RegistryState s, String template) {
        for (String q : List.of(template, "dom0")) {
            Optional<String> v = s.find(q).flatMap(x -> x.feature(Features.PRELOAD_DISPVM_DELAY));
            if (v.isPresent()) {
                try {
                    Optional<Double> d = parseDelay(v.get());
                    if (d.isPresent()) {
                        return d.get();
                    }
                } catch (RegistryException e) {
                    // a stored value is validated on set; an invalid one (hand-edited store) falls through
                }
            }
        }
        return DEFAULT_DELAY_SECONDS;
    }

    public static Duration toDuration(double seconds) {
        return Duration.ofMillis(Math.round(Math.abs(seconds) * 1000));
    }

    /** Host memory preloading must leave free (dom0's threshold), in bytes. */
    public static long thresholdBytes(RegistryState s) {
        String v = s.get("dom0").features().getOrDefault(Features.PRELOAD_DISPVM_THRESHOLD, "");
        try {
            return parseThresholdBytes(v);
        } catch (RegistryException e) {
            return 0;
        }
    }

    /** The qube (or its template chain) runs the agent and answers both readiness services. */
    public static boolean supportsPreload(RegistryState s, String qube) {
        return chainTrue(s, qube, Features.QREXEC) && chainTrue(s, qube, Features.RPC_WAIT_RUNNING)
                && chainTrue(s, qube, Features.RPC_WAIT_SESSION);
    }

    private static boolean chainTrue(RegistryState s, String qube, String feature) {
        Set<String> seen = new HashSet<>();
        String cur = qube;
        while (cur != null && !cur.isEmpty() && seen.add(cur)) {
            Optional<Qube> q = s.find(cur);
            if (q.isEmpty()) {
                return false;
            }
            Optional<String> v = q.get().feature(feature);
            if (v.isPresent()) {
                return !v.get().isEmpty();
            }
            cur = q.get().properties().get(PropertyRules.TEMPLATE);
        }
        return false;
    }

    /**
     * Validates a feature value the admin sets on {@code qube}; the preload features have rules, others
     * any string. Engine-owned features are refused by the caller.
     */
    public static void validateFeature(RegistryState s, Qube qube, String feature, String value) {
        switch (feature) {
            case Features.PRELOAD_DISPVM_MAX -> {
                parseMax(value);
                String target = qube.klass() == QubeClass.ADMIN_VM ? s.systemDefaultDispvm().orElse(null) : qube.name();
                boolean unchanged = value.equals(qube.features().get(feature));
                if (target != null && !unchanged && !supportsPreload(s, target)) {
                    throw new RegistryException.InvalidValue("cannot set preload-dispvm-max for " + target
                            + ": it (or its template) needs features qrexec, " + Features.RPC_WAIT_RUNNING + " and "
                            + Features.RPC_WAIT_SESSION);
                }
            }
            case Features.PRELOAD_DISPVM_DELAY -> parseDelay(value);
            case Features.PRELOAD_DISPVM_THRESHOLD -> parseThresholdBytes(value);
            default -> { }
        }
    }

    /**
     * Validates a new queue for {@code template} (1.8): same multiset or empty is fine; it may shrink
     * while above the maximum but not grow past it; no duplicates; new names must be disposables of it.
     */
    public static void validateList(RegistryState s, String template, List<String> oldList, List<String> newList) {
        if (newList.isEmpty() || sortedEquals(oldList, newList)) {
            return;
        }
        int max = effectiveMax(s, template);
        if (newList.size() > Math.max(max, oldList.size())) {
            throw new RegistryException.InvalidValue("preload-dispvm of " + template + " would hold "
                    + newList.size() + " qubes, more than the maximum " + max);
        }
        if (new HashSet<>(newList).size() != newList.size()) {
            throw new RegistryException.InvalidValue("preload-dispvm of " + template + " has duplicates: " + newList);
        }
        for (String n : newList) {
            if (oldList.contains(n)) {
                continue;
            }
            Optional<Qube> q = s.find(n);
            if (q.isEmpty()) {
                throw new RegistryException.InvalidValue("preload-dispvm of " + template + ": no such qube " + n);
            }
            if (!template.equals(q.get().properties().get(PropertyRules.TEMPLATE))) {
                throw new RegistryException.InvalidValue("preload-dispvm of " + template + ": " + n
                        + " is not one of its disposables");
            }
        }
    }

    private static boolean sortedEquals(List<String> a, List<String> b) {
        return a.size() == b.size() && a.stream().sorted().toList().equals(b.stream().sorted().toList());
    }

    private static int lenientMax(String v) {
        if (v == null) {
            return 0;
        }
        try {
            return parseMax(v);
        } catch (RegistryException e) {
            return 0;
        }
    }
}
