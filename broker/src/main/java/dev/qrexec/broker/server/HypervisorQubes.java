package dev.qrexec.broker.server;

import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.QubeSpec;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Autostart through a hypervisor backend: a qube it defined is started, and its agent is found in
 * the spec's channel directory.
 */
public final class HypervisorQubes implements QubeStarter {

    private final Hypervisor hypervisor;

    public HypervisorQubes(Hypervisor hypervisor) {
        this.hypervisor = hypervisor;
    }

    @Override
    public Optional<AgentAddress> lookup(String name) {
        if (!hypervisor.list().contains(name)) {
            return Optional.empty();
        }
        return address(hypervisor.spec(name));
    }

    static Optional<AgentAddress> address(QubeSpec spec) {
        return spec.channelDir().map(dir -> new AgentAddress(spec.name(), spec.domainId(), dir));
    }

    @Override
    public CompletableFuture<AgentAddress> start(String name) {
        Optional<AgentAddress> address = lookup(name);
        if (address.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    name + " is not a qube of the " + hypervisor.backendName() + " backend with a channel directory"));
        }
        return hypervisor.start(name).thenApply(v -> address.get());
    }
}
