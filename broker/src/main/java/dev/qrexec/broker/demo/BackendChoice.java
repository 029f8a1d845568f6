package dev.qrexec.broker.demo;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.sandbox.SandboxConfig;
import dev.qrexec.xen.sandbox.SandboxHypervisor;
import dev.qrexec.xen.sim.SimHypervisor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The hypervisor the system runs on: {@code sandbox} where bubblewrap and writable cgroups work,
 * else {@code sim}, with the reason in one line.
 *
 * @param hypervisor the opened backend
 * @param instance   the backend's instance name (marks its cgroups and state)
 * @param why        one line: which backend and why
 */
record BackendChoice(Hypervisor hypervisor, String instance, String why) {

    /** What the user asked for. */
    enum Wanted {
        AUTO, SANDBOX, SIM;

        static Wanted parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("backend must be auto, sandbox or sim, got '" + s + "'");
            }
        }
    }

    /** Boot time of a sim qube: long enough that a cold disposable is visibly slower than a preload. */
    static final Duration SIM_BOOT = Duration.ofMillis(400);

    private static final Duration FAST = Duration.ofMillis(2);

    static BackendChoice open(Wanted wanted, Path stateRoot, String instance) {
        if (wanted == Wanted.SIM) {
            return new BackendChoice(sim(instance), instance, "backend: sim (asked for)");
        }
        try {
            SandboxHypervisor hv = SandboxHypervisor.open(SandboxConfig.builder(instance).stateRoot(stateRoot)
                    .startTimeout(Duration.ofSeconds(30)).workerThreads(2).build());
            return new BackendChoice(hv, instance, "backend: sandbox (bubblewrap, cgroup " + hv.cgroupVersion() + ")");
        } catch (HypervisorException.BackendUnavailable e) {
            if (wanted == Wanted.SANDBOX) {
                throw e;
            }
            return new BackendChoice(sim(instance), instance, "backend: sim, because the sandbox is unavailable: "
                    + firstLine(e.getMessage()));
        }
    }

    private static SimHypervisor sim(String instance) {
        return SimHypervisor.builder().instanceName(instance).hostMemoryMiB(16384).bootLatency(SIM_BOOT)
                .pauseLatency(FAST).unpauseLatency(FAST).shutdownLatency(FAST).killLatency(FAST).build();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no reason given)";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
