package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.Trigger;

/**
 * The C daemon's checks on a trigger before policy (spec qrexec-wire.md 4.1): a strict request
 * id, a service name that is exactly one NUL-terminated string, not empty and not starting with
 * {@code +}; then bytes outside the allowed sets are replaced by {@code _}.
 * Framing problems (short body, oversize name) never get here: the decoder closes the channel.
 */
public final class TriggerValidator {

    /** The outcome: a request for policy, or why it is refused. */
    public sealed interface Result permits Valid, Invalid {
    }

    public record Valid(CallRequest request) implements Result {
    }

    public record Invalid(String reason) implements Result {
    }

    private TriggerValidator() {
    }

    public static Result validate(Trigger trigger, String sourceName, int sourceDomain) {
        if (!trigger.requestId().isWellFormed()) {
            return new Invalid("malformed request id '" + trigger.requestId().displayText() + "'");
        }
        String name = trigger.serviceName();
        if (name == null) {
            return new Invalid("service name is not a single NUL-terminated string");
        }
        if (name.isEmpty()) {
            return new Invalid("empty service name");
        }
        if (name.charAt(0) == '+') {
            return new Invalid("service name starts with '+'");
        }
        return new Valid(new CallRequest(sourceName, sourceDomain,
                sanitize(trigger.sourceDomain(), "@:"), trigger.hasSourceField(),
                sanitize(trigger.targetDomain(), "@:"), sanitize(name, "+"), trigger.requestId()));
    }

    /** Replaces every char outside {@code [A-Za-z0-9_.-]} and {@code extra} by {@code _}. */
    static String sanitize(String raw, String extra) {
        StringBuilder sb = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '.' || c == '-' || extra.indexOf(c) >= 0;
            sb.append(ok ? c : '_');
        }
        return sb.toString();
    }
}
