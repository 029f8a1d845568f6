package dev.qrexec.policy;

import dev.qrexec.policy.token.QubeToken;
import java.util.Objects;

/**
 * One rule of a loaded policy, with every word already parsed.
 *
 * @param index    position in the policy's flat rule list (0-based); first match = lowest index
 * @param location file and line the rule came from
 * @param text     the rule as written (line stripped); for synthetic compat rules, the generated text
 * @param service  the service, or null for {@code *}
 * @param argument the argument (starting with {@code +}), or null for {@code *}
 * @param source   source column token
 * @param target   target column token
 * @param action   the action
 * @param params   the action's parameters with defaults applied
 */
public record Rule(int index, SourceLocation location, String text, String service, String argument,
                   QubeToken source, QubeToken target, Action action, RuleParams params) {

    public Rule {
        Objects.requireNonNull(location, "location");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(params, "params");
    }

    public boolean anyService() {
        return service == null;
    }

    public boolean anyArgument() {
        return argument == null;
    }

    /** Service column: {@code *} or the exact (case-sensitive) service. */
    public boolean matchesService(String requestService) {
        return service == null || service.equals(requestService);
    }

    /** Argument column: {@code *} or the exact argument ({@code +} matches only the empty argument). */
    public boolean matchesArgument(String requestArgument) {
        return argument == null || argument.equals(requestArgument);
    }

    /** The token whose expansion this rule contributes to ask candidates: its redirect, else its target column. */
    public QubeToken effectiveTarget() {
        return params.target() != null && action != Action.DENY ? params.target() : target;
    }

    /**
     * The rule as policy tools print it (spec 4): tab-separated service, argument, source, target
     * and the action with its {@code target=}, {@code default_target=} and non-empty {@code user=}
     * (notify and autostart are not printed). {@code *} stands for an absent service or argument.
     */
    public String canonicalText() {
        StringBuilder out = new StringBuilder();
        out.append(service == null ? "*" : service).append('\t').append(argument == null ? "*" : argument).append('\t')
                .append(source.text()).append('\t').append(target.text()).append('\t').append(action.keyword());
        if (action != Action.DENY) {
            if (params.target() != null) {
                out.append(" target=").append(params.target().text());
            }
            if (params.defaultTarget() != null) {
                out.append(" default_target=").append(params.defaultTarget().text());
            }
            if (params.user() != null && !params.user().isEmpty()) {
                out.append(" user=").append(params.user());
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return location + ": " + text;
    }
}
