package dev.qrexec.policy.reply;

import java.util.Objects;

/**
 * What a {@code policy.Ask} call answered (spec 5.8): {@code deny}, {@code allow:TARGET}, or
 * anything else, which is an invalid response. One trailing newline is tolerated.
 *
 * @param kind   which of the three
 * @param target the chosen target for {@link Kind#ALLOW}, else null
 * @param raw    the answer as received (for logs), at most {@link #MAX_LOGGED} characters of it
 */
public record AskAnswer(Kind kind, String target, String raw) {

    /** How much of an invalid answer is kept for the log. */
    public static final int MAX_LOGGED = 80;

    public enum Kind { DENY, ALLOW, INVALID }

    public AskAnswer {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(raw, "raw");
        if ((kind == Kind.ALLOW) != (target != null)) {
            throw new IllegalArgumentException("a target goes with ALLOW and only with it");
        }
    }

    public static AskAnswer parse(String answer) {
        if (answer == null) {
            return new AskAnswer(Kind.INVALID, null, "<none>");
        }
        String text = answer.endsWith("\n") ? answer.substring(0, answer.length() - 1) : answer;
        String shown = text.length() > MAX_LOGGED ? text.substring(0, MAX_LOGGED) + "..." : text;
        if (text.equals("deny")) {
            return new AskAnswer(Kind.DENY, null, shown);
        }
        if (text.startsWith("allow:") && text.length() > "allow:".length()) {
            return new AskAnswer(Kind.ALLOW, text.substring("allow:".length()), shown);
        }
        return new AskAnswer(Kind.INVALID, null, shown);
    }
}
