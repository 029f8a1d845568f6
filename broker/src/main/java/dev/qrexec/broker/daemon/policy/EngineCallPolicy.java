package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.CallPolicy;
import dev.qrexec.broker.daemon.CallRequest;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.policy.daemon.PolicyResponder;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The broker's policy: the very responder that serves {@code policy.sock}, called in-process with
 * the request qrexec-daemon would send, and its reply read as qrexec-daemon reads it. A
 * {@code uuid:} target is turned into the qube's name with the same system info.
 */
public final class EngineCallPolicy implements CallPolicy {

    private final PolicyResponder responder;
    private final Supplier<SystemInfo> system;

    public EngineCallPolicy(PolicyResponder responder, Supplier<SystemInfo> system) {
        this.responder = Objects.requireNonNull(responder, "responder");
        this.system = Objects.requireNonNull(system, "system");
    }

    @Override
    public PolicyVerdict evaluate(CallRequest request) {
        SocketRequest wire = new SocketRequest(request.source(), request.target(), request.serviceAndArg(),
                request.requestedSource(), false, false);
        PolicyVerdict verdict = DaemonReplyParser.parse(responder.reply(wire));
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
