package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.CallPolicy;
import dev.qrexec.broker.daemon.CallRequest;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.policy.daemon.AsyncPolicyResponder;
import dev.qrexec.policy.daemon.PolicyResponder;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The broker's policy: the very responder that serves {@code policy.sock}, called in-process with
 * the request qrexec-daemon would send, and its reply read as qrexec-daemon reads it. A
 * {@code uuid:} target is turned into the qube's name with the same system info. With an
 * asynchronous responder an {@code ask} completes the verdict once the user answered.
 */
public final class EngineCallPolicy implements CallPolicy {

    private final AsyncPolicyResponder responder;
    private final Supplier<SystemInfo> system;

    /** With a responder that answers at once (an ask is denied). */
    public EngineCallPolicy(PolicyResponder responder, Supplier<SystemInfo> system) {
        this(system, wire -> CompletableFuture.completedFuture(responder.reply(wire)));
        Objects.requireNonNull(responder, "responder");
    }

    private EngineCallPolicy(Supplier<SystemInfo> system, AsyncPolicyResponder responder) {
        this.responder = Objects.requireNonNull(responder, "responder");
        this.system = Objects.requireNonNull(system, "system");
    }

    /** With a responder that may answer later (an ask waits for the user, see {@code AskingResponder}). */
    public static EngineCallPolicy asking(AsyncPolicyResponder responder, Supplier<SystemInfo> system) {
        return new EngineCallPolicy(system, responder);
    }

    @Override
    public PolicyVerdict evaluate(CallRequest request) throws Exception {
        return evaluateAsync(request).get();
    }

    @Override
    public CompletableFuture<PolicyVerdict> evaluateAsync(CallRequest request) {
        SocketRequest wire = new SocketRequest(request.source(), request.target(), request.serviceAndArg(),
                request.requestedSource(), false, false);
        return responder.replyAsync(wire).thenApply(this::verdict);
    }

    private PolicyVerdict verdict(String reply) {
        PolicyVerdict verdict = DaemonReplyParser.parse(reply);
        if (verdict instanceof PolicyVerdict.Allow allow && allow.target().startsWith("uuid:")) {
            QubeInfo q = system.get().get(allow.target());
            if (q == null) {
                return new PolicyVerdict.Deny("policy target " + allow.target() + " is not a known qube");
            }
            String name = q.type() != null && q.type().equals("AdminVM") ? "dom0" : q.name();
            return new PolicyVerdict.Allow(allow.user(), name, allow.autostart(), allow.requestedTarget(),
                    allow.service(), allow.policySource());
        }
        return verdict;
    }
}
