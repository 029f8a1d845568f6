package dev.qrexec.broker.server;

import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.DisposableProvider;

import dev.qrexec.dispvm.Disposables;
import dev.qrexec.xen.Hypervisor;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code @dispvm:T} targets through the disposable manager (spec dispvm-preload.md 3): obtain a
 * preloaded or cold disposable, find its agent in the channel directory of its hypervisor spec, and
 * release it (kill and discard) once the call is over.
 */
public final class DispvmDisposables implements DisposableProvider {

    private static final Logger LOG = System.getLogger(DispvmDisposables.class.getName());

    private final Disposables disposables;
    private final Hypervisor hypervisor;

    public DispvmDisposables(Disposables disposables, Hypervisor hypervisor) {
        this.disposables = disposables;
        this.hypervisor = hypervisor;
    }

    @Override
    public CompletableFuture<DisposableProvider.Disposable> obtain(String template, String caller) {
        return disposables.obtain(template, caller).thenApply(this::lease);
    }

    private DisposableProvider.Disposable lease(dev.qrexec.dispvm.Disposable d) {
        AgentAddress agent = HypervisorQubes.address(hypervisor.spec(d.name())).orElseThrow(() -> {
            disposables.release(d.name());
            return new IllegalStateException("disposable " + d.name() + " has no channel directory");
        });
        LOG.log(Level.INFO, "disposable {0} of {1} for {2} ({3}, {4} ms)", d.name(), d.template(), d.caller(),
                d.preloaded() ? "preloaded" : "cold", d.took().toMillis());
        AtomicBoolean released = new AtomicBoolean();
        return new DisposableProvider.Disposable() {
            @Override
            public AgentAddress agent() {
                return agent;
            }

            @Override
            public void release() {
                if (released.compareAndSet(false, true)) {
                    disposables.release(d.name()).whenComplete((v, e) -> {
                        if (e != null) {
                            LOG.log(Level.WARNING, "releasing disposable " + d.name() + " failed", e);
                        }
                    });
                }
            }
        };
    }
}
