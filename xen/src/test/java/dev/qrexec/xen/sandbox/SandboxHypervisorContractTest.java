package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.HypervisorContract;

import java.nio.file.Path;

/** The contract suite on real bubblewrap sandboxes in real cgroups. */
class SandboxHypervisorContractTest extends HypervisorContract {

    private Path template;

    @Override
    protected Hypervisor createHypervisor(Path tempDir) throws Exception {
        SandboxFixture.makeTraversable(tempDir);
        SandboxHypervisor hypervisor = SandboxFixture.open(
                SandboxFixture.config(tempDir, SandboxFixture.uniqueInstance("ct")).build());
        template = SandboxFixture.templateRoot();
        return hypervisor;
    }

    @Override
    protected QubeSpec.Builder specFor(String name, int domainId) {
        return super.specFor(name, domainId)
                .templateRoot(template)
                .privateStorage(tempDir.resolve("private-" + name))
                .channelDir(tempDir.resolve("ch-" + name))
                .init(SandboxFixture.IDLE_INIT);
    }
}
