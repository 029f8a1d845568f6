package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.spi.QubeReadiness;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which readiness services a preload waits for before it is complete (spec 2.3 step 1): always
 * {@code qubes.WaitForRunningSystem}; also {@code qubes.WaitForSession} when the qube has a GUI VM,
 * its {@code gui} feature is true and its agent advertises {@code supported-feature.late-gui-daemon}
 * (features read through the template chain, as Qubes' {@code check_with_template}).
 */
public final class StartupWaits {

    private StartupWaits() {
    }

    public static List<String> servicesFor(RegistryState s, Qube q) {
        if (wantsSession(s, q)) {
            return List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM, QubeReadiness.WAIT_FOR_SESSION);
        }
        return List.of(QubeReadiness.WAIT_FOR_RUNNING_SYSTEM);
    }

    static boolean wantsSession(RegistryState s, Qube q) {
        return !s.property(q, PropertyRules.GUIVM).isEmpty()
                && featureWithTemplate(s, q.name(), Features.GUI)
                && featureWithTemplate(s, q.name(), Features.LATE_GUI_DAEMON);
    }

    /** Qubes' {@code features.check_with_template(name, False)}: the first qube in the chain that has it decides. */
    public static boolean featureWithTemplate(RegistryState s, String qube, String feature) {
        Set<String> seen = new HashSet<>();
        String cur = qube;
        while (cur != null && !cur.isEmpty() && seen.add(cur)) {
            Optional<Qube> q = s.find(cur);
            if (q.isEmpty()) {
                return false;
            }
            Optional<String> v = q.get().feature(feature);
            if (v.isPresent()) {
                return !v.get().isEmpty() && !"0".equals(v.get());
            }
            cur = q.get().properties().get(PropertyRules.TEMPLATE);
        }
        return false;
    }
}
