package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.HypervisorProvider;

import java.nio.file.Path;
import java.util.Set;

/**
 * {@code sandbox} for {@link dev.qrexec.xen.Hypervisors}, e.g.
 * {@code sandbox:instance=dom0,state-dir=/run/qrexec-sandbox,host-memory-mib=8192}. The state dir is
 * the parent of the instance's own directory. Options: {@code host-memory-mib}, {@code uid-base},
 * {@code cgroup-root}, {@code bwrap}, {@code setpriv}, {@code start-timeout}, {@code kill-timeout},
 * {@code freeze-timeout}, {@code worker-threads}, {@code pids-max}, {@code console-max-bytes}; defaults as in {@link SandboxConfig.Builder}.
 */
public final class SandboxHypervisorProvider implements HypervisorProvider {

    private static final Set<String> OPTIONS = Set.of("host-memory-mib", "uid-base", "cgroup-root", "bwrap",
            "setpriv", "start-timeout", "kill-timeout", "freeze-timeout", "worker-threads", "pids-max", "console-max-bytes");

    @Override
    public String name() {
        return "sandbox";
    }

    @Override
    public Set<String> options() {
        return OPTIONS;
    }

    @Override
    public Hypervisor create(HypervisorConfig config) {
        return SandboxHypervisor.open(toSandboxConfig(config));
    }

    static SandboxConfig toSandboxConfig(HypervisorConfig config) {
        SandboxConfig defaults = SandboxConfig.builder(config.instanceName()).build();
        SandboxConfig.Builder builder = SandboxConfig.builder(config.instanceName());
        config.stateDir().ifPresent(builder::stateRoot);
        config.option("cgroup-root").map(Path::of).ifPresent(builder::cgroupRoot);
        config.option("bwrap").map(Path::of).ifPresent(builder::bwrap);
        config.option("setpriv").map(Path::of).ifPresent(builder::setpriv);
        builder.hostMemoryBytes(Math.multiplyExact(config.longOption("host-memory-mib", 0), 1L << 20))
                .uidBase(Math.toIntExact(config.longOption("uid-base", defaults.uidBase())))
                .startTimeout(config.durationOption("start-timeout", defaults.startTimeout()))
                .killTimeout(config.durationOption("kill-timeout", defaults.killTimeout()))
                .freezeTimeout(config.durationOption("freeze-timeout", defaults.freezeTimeout()))
                .workerThreads(Math.toIntExact(config.longOption("worker-threads", defaults.workerThreads())))
                .pidsMax(config.longOption("pids-max", defaults.pidsMax()))
                .consoleMaxBytes(config.longOption("console-max-bytes", defaults.consoleMaxBytes()));
        return builder.build();
    }
}
