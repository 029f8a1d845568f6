package dev.qrexec.xen.sim;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.contract.HypervisorContract;

import java.nio.file.Path;
import java.time.Duration;

/** The contract suite on the sim backend, in real time with small latencies (so it is truly async). */
class SimHypervisorContractTest extends HypervisorContract {

    @Override
    protected Hypervisor createHypervisor(Path tempDir) {
        return SimHypervisor.builder()
                .instanceName("contract")
                .allLatencies(Duration.ofMillis(2))
                .hostMemoryMiB(4096)
                .build();
    }
}
