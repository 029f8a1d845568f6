package dev.qrexec.policy.reply;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the policy daemon writes back on {@code policy.sock} (spec 5.7, 5.8): the lines joined by
 * {@code \n}, without trailing newline. Either a final {@link #text()}, or, for an ask in
 * {@link dev.qrexec.policy.EvaluationMode#NORMAL} mode, a {@link #pendingAsk()} that needs the
 * user's answer ({@link #afterAnswer}).
 *
 * @param text       the reply text, or null while an ask is pending
 * @param pendingAsk the ask to show to the user, or null
 */
public record DaemonReply(String text, Decision.Ask pendingAsk) {

    public static final String DENY = "result=deny";
    public static final String ALLOW = "result=allow";
    private static final Logger LOG = System.getLogger(DaemonReply.class.getName());

    public DaemonReply {
        if ((text == null) == (pendingAsk == null)) {
            throw new IllegalArgumentException("exactly one of text and pendingAsk must be set");
        }
    }

    public static DaemonReply deny() {
        return new DaemonReply(DENY, null);
    }

    /** The reply while the policy cannot be loaded. */
    public static DaemonReply forLoadFailure(PolicyLoadException error) {
        LOG.log(Level.ERROR, "error loading policy: {0}", error.getMessage());
        return deny();
    }

    public boolean isPending() {
        return pendingAsk != null;
    }

    /** Renders a decision for the request's mode. */
    public static DaemonReply render(PolicyRequest request, Decision decision, SystemInfo system) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(system, "system");
        String prefix = "qrexec: " + request.service() + request.argument() + ": " + request.source() + " -> "
                + request.intendedTarget() + ":";
        if (decision instanceof Decision.Deny deny) {
            logDenial(prefix, request, deny.message(), deny.notifyUser(), system);
            return deny();
        }
        if (decision instanceof Decision.Allow allow) {
            if (request.mode().justEvaluate()) {
                return new DaemonReply(ALLOW, null);
            }
            return allowText(prefix, request, allow.target(), allow.user(), allow.autostart(),
                    allow.requestedTarget(), system);
        }
        Decision.Ask ask = (Decision.Ask) decision;
        if (request.mode().assumeYesForAsk()) {
            // the "answer" is the intended target itself, so only a literal candidate passes (spec 5.4 step 7)
            return afterAnswer(request, ask, ask.requestedTarget(), system);
        }
        if (request.mode().justEvaluate()) {
            LOG.log(Level.INFO, "{0} denied: ask in just-evaluate mode", prefix);
            return deny();
        }
        return new DaemonReply(null, ask);
    }

    /**
     * The reply once the user answered a pending ask: {@code chosenTarget} is the chosen candidate,
     * or null when the user said no.
     */
    public static DaemonReply afterAnswer(PolicyRequest request, Decision.Ask ask, String chosenTarget,
                                          SystemInfo system) {
        String prefix = "qrexec: " + request.service() + request.argument() + ": " + request.source() + " -> "
                + request.intendedTarget() + ":";
        if (chosenTarget == null) {
            logDenial(prefix, request, "denied by the user " + ask.decidingRule().location(), ask.notifyUser(), system);
            return deny();
        }
        if (!ask.targets().contains(chosenTarget)) {
            logDenial(prefix, request, "target " + chosenTarget + " is not a valid choice", true, system);
            return deny();
        }
        if (request.mode().justEvaluate()) {
            return new DaemonReply(ALLOW, null);
        }
        return allowText(prefix, request, chosenTarget, ask.user(), ask.autostart(), ask.requestedTarget(), system);
    }

    /**
     * The reply when a pending ask got no usable answer (no GUI qube, invalid response, no answer
     * in time, the prompt failed): a logged denial with {@code why}.
     */
    public static DaemonReply afterUnusableAnswer(PolicyRequest request, String why, SystemInfo system) {
        String prefix = "qrexec: " + request.service() + request.argument() + ": " + request.source() + " -> "
                + request.intendedTarget() + ":";
        return refuse(prefix, request, why, system);
    }

    private static DaemonReply allowText(String prefix, PolicyRequest request, String target, String user,
                                         boolean autostart, String requestedTarget, SystemInfo system) {
        String source = request.effectiveSource();
        boolean relayed = !request.requestedSource().isEmpty();
        if (source.equals(target)) {
            return refuse(prefix, request, "loopback qrexec connection not supported", system);
        }
        String userLine = "user=" + (user == null || user.isEmpty() ? "DEFAULT" : user);
        String autostartLine = "autostart=" + (autostart ? "True" : "False");
        String requestedLine = "requested_target=" + requestedTarget;
        List<String> lines = new ArrayList<>(8);
        if (QubeToken.isDom0(target)) {
            lines.addAll(List.of(userLine, "result=allow", "target=dom0", autostartLine, requestedLine));
            return allowed(prefix, target, lines);
        }
        if (target.startsWith(QubeToken.DISPVM_PREFIX)) {
            QubeInfo template = system.get(target.substring(QubeToken.DISPVM_PREFIX.length()));
            if (template == null || template.uuid() == null) {
                return crash(prefix, "KeyError: disposable template of " + target + " is not a known qube");
            }
            lines.addAll(List.of(userLine, "result=allow", "target=" + target,
                    "target_uuid=@dispvm:uuid:" + template.uuid(), autostartLine, requestedLine));
        } else {
            QubeInfo q = system.get(target);
            if (q == null) {
                return crash(prefix, "KeyError: target " + target + " is not a known qube");
            }
            if (q.isRemote()) {
                if (user != null) {
                    LOG.log(Level.WARNING, "{0} ignoring user={1}: not supported for a RemoteVM target", prefix, user);
                }
                if (q.relayvm() == null || q.relayvm().isEmpty()) {
                    return refuse(prefix, request, target + ": relayvm is not set", system);
                }
                if (q.transportRpc() == null || q.transportRpc().isEmpty()) {
                    return refuse(prefix, request, target + ": transport RPC is not set", system);
                }
                QubeInfo relay = system.get(q.relayvm());
                if (relay == null || relay.uuid() == null) {
                    return crash(prefix, "KeyError: relay " + q.relayvm() + " of " + target + " is not a known qube");
                }
                lines.addAll(List.of("user=DEFAULT", "result=allow", "target=" + q.relayvm(),
                        "target_uuid=uuid:" + relay.uuid(), autostartLine, requestedLine,
                        "service=" + q.transportRpc() + "+" + requestedTarget + "+" + request.service()
                                + request.argument()));
            } else {
                if (q.uuid() == null) {
                    return crash(prefix, "KeyError: target " + target + " has no uuid");
                }
                lines.addAll(List.of(userLine, "result=allow", "target=" + target, "target_uuid=uuid:" + q.uuid(),
                        autostartLine, requestedLine));
            }
        }
        if (relayed) {
            lines.add("policy_source=" + source);
        }
        return allowed(prefix, target, lines);
    }

    private static DaemonReply allowed(String prefix, String target, List<String> lines) {
        LOG.log(Level.INFO, "{0} allowed to {1}", prefix, target);
        return new DaemonReply(String.join("\n", lines), null);
    }

    private static DaemonReply refuse(String prefix, PolicyRequest request, String why, SystemInfo system) {
        logDenial(prefix, request, why, true, system);
        return deny();
    }

    private static DaemonReply crash(String prefix, String why) {
        LOG.log(Level.WARNING, "{0} denied quietly where the reference engine crashes: {1}", prefix, why);
        return deny();
    }

    private static void logDenial(String prefix, PolicyRequest request, String why, boolean notify, SystemInfo system) {
        LOG.log(Level.INFO, "{0} denied: {1}", prefix, why);
        if (notify && !request.mode().justEvaluate()) {
            QubeInfo source = system.get(request.effectiveSource());
            if (source == null || !source.hasGuivm()) {
                // the reference crashes looking up the source's guivm here; the caller still gets a deny
                LOG.log(Level.DEBUG, "{0} no guivm known for the source; no notification", prefix);
            }
        }
    }
}
