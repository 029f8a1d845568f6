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
 * without a GUI qube; a daemon that can reach a prompt answers with {@link AskingResponder}.
 */
public final class EngineResponder implements PolicyResponder {

    private static final System.Logger LOG = System.getLogger(EngineResponder.class.getName());

    /** Distinct requests remembered per policy and system info snapshot by default. */
    public static final int DEFAULT_CACHE_ENTRIES = 4096;

    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;
    private final ReplyCache<String> cache;

    /**
     * A responder that remembers up to {@link #DEFAULT_CACHE_ENTRIES} replies per snapshot (see {@link ReplyCache}).
     *
     * @param policy the policy in force (e.g. a {@link dev.qrexec.policy.reload.PolicyService}); read once per request
     * @param system the system info in force; read once per request; may throw while unavailable
     */
    public EngineResponder(Supplier<Policy> policy, Supplier<SystemInfo> system) {
        this(policy, system, DEFAULT_CACHE_ENTRIES);
    }

    /**
     * @param cacheEntries distinct requests whose replies are remembered while the policy and system
     *                     info snapshots stay the same; 0 evaluates every request afresh
     */
    public EngineResponder(Supplier<Policy> policy, Supplier<SystemInfo> system, int cacheEntries) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
        if (cacheEntries < 0) {
            throw new IllegalArgumentException("cacheEntries must not be negative, was " + cacheEntries);
        }
        this.cache = cacheEntries == 0 ? null : new ReplyCache<>(cacheEntries);
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
        Policy policyInForce = policy.get();
        if (cache != null) {
            String remembered = cache.get(policyInForce, systemInfo, wire);
            if (remembered != null) {
                if (LOG.isLoggable(Level.INFO)) {
                    LOG.log(Level.INFO, "qrexec: {0}: {1} (as for the same request before, same policy and system info)",
                            toPolicyRequest(wire), firstLineOf(remembered));
                }
                return remembered;
            }
        }
        PolicyRequest request = toPolicyRequest(wire);
        Decision decision = policyInForce.evaluate(request, systemInfo);
        DaemonReply reply = DaemonReply.render(request, decision, systemInfo);
        String text;
        if (reply.isPending()) {
            LOG.log(Level.INFO, "qrexec: {0}: denied: ask needs a prompt and this daemon has none", request);
            text = DaemonReply.DENY;
        } else {
            text = reply.text();
        }
        if (cache != null) {
            cache.put(policyInForce, systemInfo, wire, text);
        }
        return text;
    }

    private static String firstLineOf(String reply) {
        int result = reply.indexOf("result=");
        int end = result < 0 ? -1 : reply.indexOf('\n', result);
        return result < 0 ? reply : end < 0 ? reply.substring(result) : reply.substring(result, end);
    }

    /** The engine's request for a wire request. */
    public static PolicyRequest toPolicyRequest(SocketRequest wire) {
        return PolicyRequest.ofServiceAndArgument(wire.serviceAndArg(), wire.source(), wire.intendedTarget())
                .withRequestedSource(wire.requestedSource())
                .withMode(EvaluationMode.of(wire.justEvaluate(), wire.assumeYesForAsk()));
    }
}
