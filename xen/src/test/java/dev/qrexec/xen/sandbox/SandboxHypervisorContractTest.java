package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.HypervisorContract;

import java.nio.file.Path;

/** The contract suite on real bubblewrap sandboxes in real cgroups. */
class SandboxHypervisorContractTest extends HypervisorContract {

    private Path template;
    private String instance;

    @Override
    protected Hypervisor createHypervisor(Path tempDir) throws Exception {
        SandboxFixture.makeTraversable(tempDir);
        instance = SandboxFixture.uniqueInstance("ct");
        SandboxHypervisor hypervisor = SandboxFixture.open(SandboxFixture.config(tempDir, instance).build());
        template = SandboxFixture.templateRoot();
        return hypervisor;
    }

    /** Read back from cgroupfs: v1 {@code cpu.shares} is 4 x the weight, v2 {@code cpu.weight} 100/256 of it. */
    @Override
    protected java.util.OptionalInt appliedCpuWeight(String name) {
        String group = dev.qrexec.xen.sandbox.cgroup.CgroupDriver.instanceGroupName(instance);
        Path v1 = Path.of("/sys/fs/cgroup/cpu", group, name, "cpu.shares");
        try {
            if (java.nio.file.Files.exists(v1)) {
                return java.util.OptionalInt.of(Integer.parseInt(java.nio.file.Files.readString(v1).trim()) / 4);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return java.util.OptionalInt.empty();   // v2 rounds the weight: not compared exactly
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
