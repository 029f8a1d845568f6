package dev.qrexec.xen.sim;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.HypervisorProvider;

import java.time.Duration;
import java.util.Set;

/**
 * {@code sim} for {@link dev.qrexec.xen.Hypervisors}. Options: {@code host-memory-mib},
 * {@code boot-latency}, {@code pause-latency}, {@code unpause-latency}, {@code shutdown-latency},
 * {@code kill-latency}, {@code balloon-mib-per-s}; always in real time.
 */
public final class SimHypervisorProvider implements HypervisorProvider {

    private static final Set<String> OPTIONS = Set.of("host-memory-mib", "boot-latency", "pause-latency",
            "unpause-latency", "shutdown-latency", "kill-latency", "balloon-mib-per-s");

    @Override
    public String name() {
        return "sim";
    }

    @Override
    public Set<String> options() {
        return OPTIONS;
    }

    @Override
    public Hypervisor create(HypervisorConfig config) {
        SimHypervisorBuilder builder = SimHypervisor.builder().instanceName(config.instanceName());
        config.option("host-memory-mib").ifPresent(v -> builder.hostMemoryMiB(config.longOption("host-memory-mib", 0)));
        builder.bootLatency(config.durationOption("boot-latency", Duration.ZERO))
                .pauseLatency(config.durationOption("pause-latency", Duration.ZERO))
                .unpauseLatency(config.durationOption("unpause-latency", Duration.ZERO))
                .shutdownLatency(config.durationOption("shutdown-latency", Duration.ZERO))
                .killLatency(config.durationOption("kill-latency", Duration.ZERO));
        config.option("balloon-mib-per-s").ifPresent(v ->
                builder.balloonRate(Math.multiplyExact(config.longOption("balloon-mib-per-s", 0), 1L << 20)));
        return builder.build();
    }
}
