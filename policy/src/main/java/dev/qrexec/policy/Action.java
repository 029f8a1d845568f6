package dev.qrexec.policy;

/** The action column of a rule. Spelled exactly as in policy files (lower case). */
public enum Action {
    ALLOW("allow"),
    DENY("deny"),
    ASK("ask");

    private final String keyword;

    Action(String keyword) {
        this.keyword = keyword;
    }

    public String keyword() {
        return keyword;
    }

    /** The action for a policy word, or null: only the exact lower-case words are actions. */
    public static Action fromKeyword(String word) {
        return switch (word) {
            case "allow" -> ALLOW;
            case "deny" -> DENY;
            case "ask" -> ASK;
            default -> null;
        };
    }
}
