package dev.qrexec.policy;

import dev.qrexec.policy.token.QubeToken;

/**
 * The parameters of a rule's action, validated and with the reference's defaults applied
 * (spec 4): notify defaults to yes for deny and to no otherwise, autostart to yes.
 *
 * @param target        {@code target=} redirect, or null
 * @param defaultTarget {@code default_target=} (ask only), or null
 * @param user          {@code user=}, or null for the default user (an empty value also means default)
 * @param notifyUser        whether the user is notified of the outcome
 * @param autostart     whether the target may be started for this call
 */
public record RuleParams(QubeToken target, QubeToken defaultTarget, String user, boolean notifyUser, boolean autostart) {

    /** The defaults of an action without parameters. */
    public static RuleParams defaults(Action action) {
        return new RuleParams(null, null, null, action == Action.DENY, true);
    }
}
