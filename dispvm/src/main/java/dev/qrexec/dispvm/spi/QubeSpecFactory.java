package dev.qrexec.dispvm.spi;

import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.Volume;
import dev.qrexec.dispvm.registry.Volumes;
import dev.qrexec.xen.QubeSpec;

import java.util.Optional;

/**
 * Turns a registry qube into what the hypervisor needs to define it (paths, init command = the agent,
 * channel directory). The broker supplies its own; {@link #simple()} is enough for the sim backend.
 */
@FunctionalInterface
public interface QubeSpecFactory {

    /** The spec of {@code qube} as registered in {@code state}. */
    QubeSpec specFor(RegistryState state, Qube qube);

    /**
     * Where {@code qube}'s private data comes from when its private volume is a snapshot (a disposable:
     * its dvm template's private, spec 1.3): the qube owning the origin of that snapshot, per the volume
     * model, so a template change re-points it. Empty when the private volume is the qube's own.
     * Backends that copy a directory ({@link dev.qrexec.xen.QubeSpec#privateSource()}) use this.
     */
    static Optional<String> privateSnapshotSource(RegistryState state, Qube qube) {
        Optional<Volume> priv = qube.volume(Volume.PRIVATE);
        if (priv.isEmpty() || !priv.get().snapOnStart()) {
            return Optional.empty();
        }
        Volumes.Located origin = Volumes.origin(state, priv.get().sourceQube(), priv.get().sourceVolume())
                .orElseThrow(() -> new IllegalStateException("private volume of " + qube.name() + " snapshots "
                        + priv.get().source() + ", which does not exist"));
        return Optional.of(origin.qube());
    }

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
