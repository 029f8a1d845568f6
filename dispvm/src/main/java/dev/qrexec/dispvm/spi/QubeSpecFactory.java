package dev.qrexec.dispvm.spi;

import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.xen.QubeSpec;

/**
 * Turns a registry qube into what the hypervisor needs to define it (paths, init command = the agent,
 * channel directory). The broker supplies its own; {@link #simple()} is enough for the sim backend.
 */
@FunctionalInterface
public interface QubeSpecFactory {

    /** The spec of {@code qube} as registered in {@code state}. */
    QubeSpec specFor(RegistryState state, Qube qube);

    /** Memory, vcpus and discard-on-stop from the registry; no paths, no init. */
    static QubeSpecFactory simple() {
        return (state, qube) -> {
            long mem = Long.parseLong(state.property(qube, "memory"));
            long max = Math.max(mem, Long.parseLong(state.property(qube, "maxmem")));
            return QubeSpec.builder(qube.name(), qube.domainId())
                    .memoryMiB(mem)
                    .maxMemoryMiB(max)
                    .vcpus(Integer.parseInt(state.property(qube, "vcpus")))
                    .discardOnStop(qube.klass() == dev.qrexec.dispvm.registry.QubeClass.DISP_VM)
                    .build();
        };
    }
}
