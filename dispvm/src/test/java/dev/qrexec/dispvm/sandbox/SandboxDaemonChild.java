package dev.qrexec.dispvm.sandbox;

import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.xen.sandbox.SandboxHypervisor;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A throw-away daemon for {@link SandboxPreloadTest}: sets up a dvm template with two ready preloads
 * on the sandbox backend, then starts a third whose readiness never comes, prints
 * {@code READY a b} and {@code INFLIGHT c}, and waits to be SIGKILLed.
 * Arguments: work directory, instance name.
 */
public final class SandboxDaemonChild {

    private SandboxDaemonChild() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        SandboxSetup.prepare(work);
        SandboxHypervisor hv = SandboxSetup.open(work, args[1]);
        AtomicBoolean hold = new AtomicBoolean();
        DispvmManager m = SandboxSetup.manager(hv, work,
                (q, services, t) -> hold.get() ? new CompletableFuture<>() : CompletableFuture.completedFuture(null));
        var a = m.admin();
        a.setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0");
        a.create("tpl", QubeClass.TEMPLATE_VM, Map.of());
        for (String f : new String[] {Features.QREXEC, Features.RPC_WAIT_RUNNING, Features.RPC_WAIT_SESSION}) {
            a.setFeature("tpl", f, "1");
        }
        a.create("dvm", QubeClass.APP_VM, Map.of("template", "tpl", "template_for_dispvms", "True",
                "memory", "64", "maxmem", "256"));
        a.setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        waitFor(() -> m.queueStatus("dvm").ready().size() == 2);
        System.out.println("READY " + String.join(" ", m.queueStatus("dvm").ready()));
        System.out.flush();
        hold.set(true);
        CompletableFuture<String> third = new CompletableFuture<>();
        m.subscribe(e -> {
            if (e.kind() == DispvmEvent.Kind.PRELOAD_STARTED) {
                third.complete(e.qube());
            }
        });
        a.setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "3");
        System.out.println("INFLIGHT " + third.get());
        System.out.flush();
        while (true) {
            LockSupport.park();
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier c) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                System.out.println("TIMEOUT");
                System.exit(2);
            }
            LockSupport.parkNanos(5_000_000);
        }
    }
}
