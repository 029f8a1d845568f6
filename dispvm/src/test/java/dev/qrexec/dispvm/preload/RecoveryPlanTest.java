package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.xen.QubeState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which qubes a restarted daemon keeps (spec 2.1, 2.9 domain-load, issue #10326). */
class RecoveryPlanTest {

    private record Made(RegistryState s, String name) {
    }

    private static Made disposable(RegistryState s, Map<String, String> features) {
        var c = Mutations.createDisposable(s, "dvm", Optional.empty(), 0, features);
        return new Made(c.state(), c.name());
    }

    @Test
    void onlyCompletedPausedPreloadsSurvive() {
        RegistryState s = RegistryState.initial();
        s = Mutations.createQube(s, "fedora", QubeClass.TEMPLATE_VM, Map.of());
        s = Mutations.createQube(s, "dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        Made ready = disposable(s, Map.of(Features.PRELOAD_COMPLETED, "1", Features.PRELOAD_IN_PROGRESS, ""));
        Made readyButRunning = disposable(ready.s, Map.of(Features.PRELOAD_COMPLETED, "1", Features.PRELOAD_IN_PROGRESS, ""));
        Made halfDone = disposable(readyButRunning.s, Map.of(Features.PRELOAD_IN_PROGRESS, "1"));
        Made claimed = disposable(halfDone.s, Map.of(Features.PRELOAD_COMPLETED, "1", Features.PRELOAD_IN_PROGRESS, "1"));
        Made used = disposable(claimed.s, Map.of(Features.PRELOAD_COMPLETED, "1"));
        Made stoppedUnnamed = disposable(used.s, Map.of());
        RegistryState st = stoppedUnnamed.s.withPreloadList("dvm",
                List.of(ready.name, readyButRunning.name, halfDone.name, "ghost"));
        Map<String, QubeState> backend = Map.of(ready.name, QubeState.PAUSED, readyButRunning.name, QubeState.RUNNING,
                halfDone.name, QubeState.RUNNING, claimed.name, QubeState.RUNNING, used.name, QubeState.RUNNING,
                "stranger", QubeState.RUNNING);

        RecoveryPlan plan = RecoveryPlan.of(st, List.copyOf(backend.keySet()), backend::get);

        assertEquals(Map.of(ready.name, "dvm"), plan.keep());
        assertEquals(java.util.Set.of(readyButRunning.name, halfDone.name, "ghost", claimed.name, stoppedUnnamed.name,
                "stranger"), java.util.Set.copyOf(plan.discard()));
    }
}
