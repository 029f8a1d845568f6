package dev.qrexec.policy.reply;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code policy.Notify} call the daemon should make to the source's GUI qube (spec 5.8): after a
 * denial with notify set, or an allow whose rule says {@code notify=yes}; never when just
 * evaluating, never for a broken policy or an invalid request token, never without a guivm.
 *
 * @param guivm      the qube to call {@code policy.Notify} in
 * @param resolution {@code allow} or {@code deny}
 * @param service    the service
 * @param argument   the argument
 * @param source     the source
 * @param target     for a denial the intended target as the caller gave it; for an allow the resolved target
 */
public record Notification(String guivm, String resolution, String service, String argument, String source,
                           String target) {

    /** The JSON object of the {@code policy.Notify} payload, in the reference's key order. */
    public Map<String, Object> params() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("resolution", resolution);
        m.put("service", service);
        m.put("argument", argument);
        m.put("source", source);
        m.put("target", target);
        return m;
    }

    /**
     * The notification for the outcome of an answered ask (spec 5.4 step 6, 5.8): {@code allowed}
     * to {@code resolvedTarget}, or denied; sent only if {@code notify} and the source has a guivm.
     */
    public static Optional<Notification> forAskOutcome(PolicyRequest request, SystemInfo system, boolean allowed,
                                                       String resolvedTarget, boolean notify) {
        if (!notify || request.mode().justEvaluate()) {
            return Optional.empty();
        }
        String source = request.effectiveSource();
        QubeInfo sourceQube = system.get(source);
        String guivm = sourceQube == null ? null : sourceQube.guivm();
        if (guivm == null || guivm.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Notification(guivm, allowed ? "allow" : "deny", request.service(), request.argument(),
                source, allowed ? resolvedTarget : request.intendedTarget()));
    }

    /** The notification a decision calls for in this request's mode, if any. */
    public static Optional<Notification> forDecision(PolicyRequest request, Decision decision, SystemInfo system) {
        if (request.mode().justEvaluate()) {
            return Optional.empty();
        }
        String source = request.effectiveSource();
        QubeInfo sourceQube = system.get(source);
        String guivm = sourceQube == null ? null : sourceQube.guivm();
        if (guivm == null || guivm.isEmpty()) {
            return Optional.empty();
        }
        if (decision instanceof Decision.Deny deny) {
            // a broken policy or an invalid intended-target token never notifies: notifyUser is false for them
            if (!deny.notifyUser() || deny.isReferenceCrash()) {
                return Optional.empty();
            }
            return Optional.of(new Notification(guivm, "deny", request.service(), request.argument(), source,
                    request.intendedTarget()));
        }
        if (decision instanceof Decision.Allow allow && allow.notifyUser()) {
            return Optional.of(new Notification(guivm, "allow", request.service(), request.argument(), source,
                    allow.target()));
        }
        return Optional.empty();
    }
}
