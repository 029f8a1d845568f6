package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.contract.HypervisorContract;

import java.nio.file.Path;

/**
 * The contract suite on libvirt's in-process test driver ({@code test:///default}): runs wherever
 * {@code libvirt0} is installed, needs no libvirtd. Skipped without libvirt, failed in CI.
 */
class LibvirtHypervisorContractTest extends HypervisorContract {

    @Override
    protected Hypervisor createHypervisor(Path tempDir) {
        return LibvirtHypervisor.open(LibvirtConfig.builder("test:///default")
                .instanceName("contract-" + ProcessHandle.current().pid())
                .storageDir(tempDir.resolve("storage").toAbsolutePath())
                .build());
    }
}
