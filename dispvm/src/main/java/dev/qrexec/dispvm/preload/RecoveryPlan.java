package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.xen.QubeState;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a restarted daemon keeps and throws away (spec 2.1's principle: persisted stage markers say
 * what was reached in some run; only a finished preload that is still paused is trusted).
 *
 * @param keep    ready preloads to keep: name → dvm template
 * @param discard qubes to clean up: half-made or claimed preloads, halted unnamed disposables, names
 *                in a queue that no longer exist, and backend qubes the registry does not know
 */
public record RecoveryPlan(Map<String, String> keep, List<String> discard) {

    public RecoveryPlan {
        keep = Collections.unmodifiableMap(new LinkedHashMap<>(keep));
        discard = List.copyOf(discard);
    }

    /** The plan for {@code s}, given what the backend has {@code defined} and their states. */
    public static RecoveryPlan of(RegistryState s, List<String> defined, Function<String, QubeState> state) {
        Map<String, String> keep = new LinkedHashMap<>();
        List<String> discard = new ArrayList<>();
        for (Qube t : s.qubes().values()) {
            for (String n : s.preloadList(t.name())) {
                Qube q = s.qubes().get(n);
                boolean ready = q != null && s.isDispvmTemplate(t.name())
                        && q.featureTrue(Features.PRELOAD_COMPLETED)
                        && !q.featureTrue(Features.PRELOAD_IN_PROGRESS)
                        && defined.contains(n) && state.apply(n) == QubeState.PAUSED;
                if (ready) {
                    keep.put(n, t.name());
                } else {
                    discard.add(n);
                }
            }
        }
        for (Qube q : s.qubes().values()) {
            if (q.klass() != QubeClass.DISP_VM || keep.containsKey(q.name()) || discard.contains(q.name())) {
                continue;
            }
            boolean running = defined.contains(q.name()) && state.apply(q.name()) != QubeState.HALTED;
            boolean auto = PropertyRules.TRUE.equals(s.property(q, PropertyRules.AUTO_CLEANUP));
            // Claimed before the crash (in progress, out of the queue) or an unnamed one that stopped.
            if (q.featureTrue(Features.PRELOAD_IN_PROGRESS) || auto && !running) {
                discard.add(q.name());
            }
        }
        for (String n : defined) {
            if (!s.qubes().containsKey(n) && !discard.contains(n)) {
                discard.add(n);
            }
        }
        return new RecoveryPlan(keep, discard);
    }
}
