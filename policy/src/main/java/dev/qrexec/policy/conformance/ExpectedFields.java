package dev.qrexec.policy.conformance;

import dev.qrexec.policy.Decision;

import java.util.ArrayList;
import java.util.Map;

/**
 * The fields of the conformance corpus's {@code expected} object for an allow and for an ask: one
 * spelling, shared by the runner (which compares them) and {@code qrexec policy eval} (which prints them).
 */
public final class ExpectedFields {

    private ExpectedFields() {
    }

    public static void putAllow(Map<String, Object> m, Decision.Allow a) {
        m.put("result", "allow");
        m.put("target", a.target());
        m.put("user", a.user());
        m.put("autostart", a.autostart());
        m.put("notify", a.notifyUser());
        m.put("rule", a.decidingRule().location().toString());
        m.put("requested_target", a.requestedTarget());
    }

    public static void putAsk(Map<String, Object> m, Decision.Ask a) {
        m.put("result", "ask");
        m.put("targets", new ArrayList<Object>(a.targets()));
        m.put("default_target", a.defaultTarget());
        m.put("user", a.user());
        m.put("autostart", a.autostart());
        m.put("notify", a.notifyUser());
        m.put("rule", a.decidingRule().location().toString());
        m.put("requested_target", a.requestedTarget());
    }
}
