package dev.qrexec.dispvm.registry;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * Allocation of a disposable's {@code dispid} (0..9999): uniform random draws, at most 100, refusing
 * ids held by an existing qube or released less than the anti-reuse window ago. Unlike Qubes the
 * released ids live in the persisted state, so the window survives a daemon restart.
 */
public final class DispIds {

    public static final int MAX_DISPID = 10_000;
    public static final int MAX_DRAWS = 100;
    public static final Duration REUSE_WINDOW = Duration.ofDays(7);

    private static final Random RNG = new SecureRandom();

    private DispIds() {
    }

    /** A free dispid, or {@link RegistryException.InvalidValue} after {@value #MAX_DRAWS} failed draws. */
    public static int allocate(RegistryState s, long nowMillis, Duration window, Random rng) {
        Set<Integer> held = new HashSet<>();
        for (Qube q : s.qubes().values()) {
            String d = q.properties().get(PropertyRules.DISPID);
            if (d != null) {
                held.add(Integer.parseInt(d));
            }
        }
        for (int i = 0; i < MAX_DRAWS; i++) {
            int id = rng.nextInt(MAX_DISPID);
            if (held.contains(id)) {
                continue;
            }
            Long released = s.recentDispids().get(id);
            if (released != null && nowMillis - released < window.toMillis()) {
                continue;
            }
            return id;
        }
        throw new RegistryException.InvalidValue("no free dispid after " + MAX_DRAWS + " draws ("
                + held.size() + " in use, " + s.recentDispids().size() + " released recently)");
    }

    public static int allocate(RegistryState s, long nowMillis) {
        return allocate(s, nowMillis, REUSE_WINDOW, RNG);
    }

    /** The state with {@code dispid} recorded as released now, and expired entries dropped. */
    public static RegistryState release(RegistryState s, int dispid, long nowMillis, Duration window) {
        Map<Integer, Long> recent = new TreeMap<>();
        s.recentDispids().forEach((id, at) -> {
            if (nowMillis - at < window.toMillis()) {
                recent.put(id, at);
            }
        });
        recent.put(dispid, nowMillis);
        return s.withRecentDispids(recent);
    }
}
