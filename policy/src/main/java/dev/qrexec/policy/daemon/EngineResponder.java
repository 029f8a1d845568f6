package dev.qrexec.policy.daemon;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Answers {@code policy.sock} requests with the policy engine: evaluate, then render the reply of
 * spec 5.7 for the request's mode.
 *
 * <p>An {@code ask} in normal mode needs a person at a prompt. This responder has no prompt (the
 * standalone daemon runs without a GUI agent), so it denies, as the reference does for a source
 * without a GUI qube; the broker, which can reach the prompt, supplies its own responder.
 */
public final class EngineResponder implements PolicyResponder {

    private static final System.Logger LOG = System.getLogger(EngineResponder.class.getName());

    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;

    /**
     * @param policy the policy in force (e.g. a {@link dev.qrexec.policy.reload.PolicyService}); read once per request
     * @param system the system info in force; read once per request; may throw while unavailable
     */
    public EngineResponder(Supplier<Policy> policy, Supplier<SystemInfo> system) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
    }

    @Override
    public String reply(SocketRequest wire) {
        SystemInfo systemInfo;
        try {
            systemInfo = system.get();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "policy.sock: denying {0}: {1}", wire, e.getMessage());
            return DaemonReply.DENY;
        }
        PolicyRequest request = toPolicyRequest(wire);
        Decision decision = policy.get().evaluate(request, systemInfo);
        DaemonReply reply = DaemonReply.render(request, decision, systemInfo);
        if (reply.isPending()) {
            LOG.log(Level.INFO, "qrexec: {0}: denied: ask needs a prompt and this daemon has none", request);
            return DaemonReply.DENY;
        }
        return reply.text();
    }

    /** The engine's request for a wire request. */
    public static PolicyRequest toPolicyRequest(SocketRequest wire) {
        return PolicyRequest.ofServiceAndArgument(wire.serviceAndArg(), wire.source(), wire.intendedTarget())
                .withRequestedSource(wire.requestedSource())
                .withMode(EvaluationMode.of(wire.justEvaluate(), wire.assumeYesForAsk()));
    }
}
