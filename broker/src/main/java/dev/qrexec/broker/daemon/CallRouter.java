package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Service;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.daemon.dom0.ServiceCall;
import io.netty.channel.EventLoop;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Dispatch after the policy (spec item 3): a running qube, a halted one started first when
 * {@code autostart} allows, {@code @dispvm:T} through the disposable provider (released once both
 * ends terminated), or a dom0 service. Everything else is refused. Runs on the source's loop.
 */
final class CallRouter {

    private static final Logger LOG = System.getLogger(CallRouter.class.getName());
    /** How long a target may take to start and connect its agent. */
    static final long TARGET_START_TIMEOUT_MS = 60_000;

    private final BrokerDaemon daemon;
    private final Dom0Services dom0;
    private final QubeStarter starter;
    private final DisposableProvider disposables;

    CallRouter(BrokerDaemon daemon, Dom0Services dom0, QubeStarter starter, DisposableProvider disposables) {
        this.daemon = daemon;
        this.dom0 = dom0;
        this.starter = starter;
        this.disposables = disposables;
    }

    void route(AgentSession source, CallRequest request, PolicyVerdict verdict) {
        if (verdict instanceof PolicyVerdict.Deny deny) {
            finishRefused(source, request, deny.reason());
            return;
        }
        PolicyVerdict.Allow allow = (PolicyVerdict.Allow) verdict;
        LOG.log(Level.INFO, "qrexec: {0}: {1} -> {2}: allowed to {3}", request.serviceAndArg(), request.source(),
                request.target(), allow.target());
        if (source.state() != AgentSession.State.READY) {
            source.endCall();
            return;
        }
        if (allow.isDom0()) {
            routeToDom0(source, request, allow);
        } else if (allow.dispvmTemplate().isPresent()) {
            routeToDisposable(source, request, allow, allow.dispvmTemplate().get());
        } else {
            routeToQube(source, request, allow);
        }
    }

    private void finishRefused(AgentSession source, CallRequest request, String reason) {
        daemon.refuse(source, request, reason);
        source.endCall();
    }

    private void routeToDom0(AgentSession source, CallRequest request, PolicyVerdict.Allow allow) {
        String full = allow.service().orElse(request.serviceAndArg());
        int plus = full.indexOf('+');
        String svc = plus < 0 ? full : full.substring(0, plus);
        String arg = plus < 0 ? "" : full.substring(plus + 1);
        String requested = allow.requestedTarget();
        boolean keyword = requested.startsWith("@");
        ServiceCall call = new ServiceCall(svc, arg, allow.policySource().orElse(request.source()),
                keyword ? requested.substring(1) : requested, keyword);
        Dom0Service service = dom0.find(svc, arg).orElse(null);
        new Dom0Call(daemon, source.loop(), source, request, call, service, source::endCall).start();
    }

    private void routeToQube(AgentSession source, CallRequest request, PolicyVerdict.Allow allow) {
        String name = allow.target();
        Optional<AgentSession> target = daemon.session(name);
        if (target.isPresent()) {
            whenReady(source, request, allow, target.get().whenReady(), source::endCall);
            return;
        }
        if (!allow.autostart() || starter.lookup(name).isEmpty()) {
            finishRefused(source, request, "target " + name + " is not running"
                    + (allow.autostart() ? " and is unknown to the qube starter" : " and autostart is off"));
            return;
        }
        CompletableFuture<AgentSession> started = starter.start(name).thenCompose(address -> {
            Optional<AgentSession> existing = daemon.session(address.name());
            AgentSession s = existing.orElseGet(() -> daemon.declareIfAbsent(address));
            return s.whenReady();
        });
        whenReady(source, request, allow, started, source::endCall);
    }

    private void routeToDisposable(AgentSession source, CallRequest request, PolicyVerdict.Allow allow,
                                   String template) {
        EventLoop loop = source.loop();
        disposables.obtain(template, source.name()).whenComplete((dvm, error) -> loop.execute(() -> {
            if (error != null) {
                finishRefused(source, request, "no disposable of " + template + ": " + error.getMessage());
                return;
            }
            String name = dvm.agent().name();
            Runnable release = () -> {
                source.endCall();
                daemon.forget(name);
                dvm.release();
            };
            AgentSession target;
            try {
                target = daemon.declareIfAbsent(dvm.agent());
            } catch (RuntimeException e) {
                release.run();
                daemon.refuse(source, request, "cannot reach disposable " + name + ": " + e.getMessage());
                return;
            }
            PolicyVerdict.Allow toDvm = new PolicyVerdict.Allow(allow.user(), name, false, allow.requestedTarget(),
                    allow.service(), allow.policySource());
            whenReady(source, request, toDvm, target.whenReady(), release);
        }));
    }

    /** Relays once the target's agent is connected, or refuses if it does not come in time. */
    private void whenReady(AgentSession source, CallRequest request, PolicyVerdict.Allow allow,
                           CompletableFuture<AgentSession> ready, Runnable onDone) {
        EventLoop loop = source.loop();
        ready.orTimeout(TARGET_START_TIMEOUT_MS, TimeUnit.MILLISECONDS).whenComplete((target, error) ->
                loop.execute(() -> {
                    if (error != null || target.state() != AgentSession.State.READY) {
                        daemon.refuse(source, request, "target " + allow.target() + " is not reachable: "
                                + (error != null ? error.getMessage() : "agent disconnected"));
                        onDone.run();
                        return;
                    }
                    new RelayCall(daemon, loop, source, target, request, commandLine(source, request, allow),
                            onDone).start();
                }));
    }

    /** {@code user:QUBESRPC svc+arg source} with {@code DEFAULT} replaced (spec 7.1). */
    private String commandLine(AgentSession source, CallRequest request, PolicyVerdict.Allow allow) {
        String user = allow.user().equals("DEFAULT") ? daemon.config().defaultUser() : allow.user();
        String service = allow.service().orElse(request.serviceAndArg());
        if (service.indexOf('+') < 0) {
            service = service + "+";
        }
        return user + ":QUBESRPC " + service + " " + allow.policySource().orElse(source.name());
    }
}
