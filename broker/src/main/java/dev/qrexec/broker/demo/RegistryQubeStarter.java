package dev.qrexec.broker.demo;

import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Autostart ({@code autostart=yes} in a policy) through the disposable manager, so the registry
 * knows the qube runs: AppVMs and templates of the registry start; disposables and dom0 never do
 * (a disposable is only ever obtained for one call).
 */
final class RegistryQubeStarter implements QubeStarter {

    private final DispvmManager manager;
    private final SystemLayout layout;
    private final Function<String, CompletableFuture<AgentAddress>> start;

    /** @param start starts a qube and completes when the broker is connected to its agent */
    RegistryQubeStarter(DispvmManager manager, SystemLayout layout,
                        Function<String, CompletableFuture<AgentAddress>> start) {
        this.manager = manager;
        this.layout = layout;
        this.start = start;
    }

    @Override
    public Optional<AgentAddress> lookup(String name) {
        Optional<Qube> q = manager.snapshot().find(name);
        if (q.isEmpty() || (q.get().klass() != QubeClass.APP_VM && q.get().klass() != QubeClass.TEMPLATE_VM)) {
            return Optional.empty();
        }
        return Optional.of(new AgentAddress(name, q.get().domainId(), layout.channelDir(name)));
    }

    @Override
    public CompletableFuture<AgentAddress> start(String name) {
        if (lookup(name).isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException(name + " is not an AppVM or template"));
        }
        return start.apply(name);
    }
}
