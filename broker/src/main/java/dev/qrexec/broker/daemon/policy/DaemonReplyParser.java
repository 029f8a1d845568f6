package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.PolicyVerdict;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a policy daemon reply the way qrexec-daemon does (spec qrexec-policy.md 7.1): at most 4096
 * bytes, no NUL, one trailing newline allowed, {@code key=value} lines; {@code result} exactly once
 * and {@code allow}/{@code deny}; an allow needs {@code user}, {@code target}, {@code requested_target}
 * and {@code autostart}, a deny must have none of them; a duplicate key is malformed; unknown keys are
 * ignored. Anything malformed is a deny, with the reason.
 */
public final class DaemonReplyParser {

    static final int MAX_REPLY = 4096;
    private static final Set<String> KNOWN = Set.of("result", "user", "target", "target_uuid", "autostart",
            "requested_target", "service", "policy_source");
    private static final Set<String> ALLOW_ONLY = Set.of("user", "target", "requested_target", "autostart");

    private DaemonReplyParser() {
    }

    public static PolicyVerdict parse(String reply) {
        if (reply == null || reply.isEmpty()) {
            return malformed("empty reply");
        }
        if (reply.length() > MAX_REPLY) {
            return malformed("reply longer than " + MAX_REPLY + " bytes");
        }
        if (reply.indexOf('\0') >= 0) {
            return malformed("NUL byte in reply");
        }
        String body = reply.endsWith("\n") ? reply.substring(0, reply.length() - 1) : reply;
        Map<String, String> fields = new HashMap<>();
        for (String line : body.split("\n", -1)) {
            int eq = line.indexOf('=');
            if (eq <= 0) {
                return malformed("line without key=value: '" + line + "'");
            }
            String key = line.substring(0, eq);
            if (fields.put(key, line.substring(eq + 1)) != null) {
                return malformed("duplicate key " + key);
            }
        }
        String result = fields.get("result");
        if ("deny".equals(result)) {
            for (String k : ALLOW_ONLY) {
                if (fields.containsKey(k)) {
                    return malformed("deny with " + k);
                }
            }
            return new PolicyVerdict.Deny("denied by policy");
        }
        if (!"allow".equals(result)) {
            return malformed("result is '" + result + "'");
        }
        for (String k : ALLOW_ONLY) {
            if (!fields.containsKey(k)) {
                return malformed("allow without " + k);
            }
        }
        String autostart = fields.get("autostart");
        if (!autostart.equals("True") && !autostart.equals("False")) {
            return malformed("autostart is '" + autostart + "'");
        }
        for (String k : fields.keySet()) {
            if (!KNOWN.contains(k)) {
                System.getLogger(DaemonReplyParser.class.getName())
                        .log(System.Logger.Level.INFO, "ignoring unknown key {0} in policy reply", k);
            }
        }
        return new PolicyVerdict.Allow(fields.get("user"), fields.get("target"), autostart.equals("True"),
                fields.get("requested_target"), Optional.ofNullable(fields.get("service")),
                Optional.ofNullable(fields.get("policy_source")));
    }

    private static PolicyVerdict malformed(String why) {
        return new PolicyVerdict.Deny("malformed policy reply: " + why);
    }
}
