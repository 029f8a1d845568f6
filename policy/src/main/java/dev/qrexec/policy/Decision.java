package dev.qrexec.policy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The engine's answer to a {@link PolicyRequest}: data, not behaviour (like cedar's decisions).
 * Every decision says which rule decided (absent when none matched or the request itself was
 * invalid) and why, in words.
 *
 * <p>This is the engine-level result (the reference's resolution or AccessDenied). How it is
 * turned into the text on policy.sock, per mode, is {@link dev.qrexec.policy.reply.DaemonReply}.
 */
public sealed interface Decision {

    /** The rule that decided, if any. */
    Optional<Rule> rule();

    /** Why, in a sentence (for logs and {@code explain}). */
    String reason();

    /**
     * The call is allowed.
     *
     * @param target          the resolved target ({@code dom0}, a qube name or {@code uuid:}, or {@code @dispvm:X})
     * @param user            the user to run as, or null for the default user
     * @param autostart       whether the target may be started
     * @param notifyUser whether the user is notified
     * @param requestedTarget the intended target after normalisation (unknown names become {@code @default})
     * @param decidingRule    the matching rule
     */
    record Allow(String target, String user, boolean autostart, boolean notifyUser, String requestedTarget,
                 Rule decidingRule) implements Decision {
        public Allow {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(requestedTarget, "requestedTarget");
            Objects.requireNonNull(decidingRule, "decidingRule");
        }

        @Override
        public Optional<Rule> rule() {
            return Optional.of(decidingRule);
        }

        @Override
        public String reason() {
            return "allowed to " + target + " by " + decidingRule.location();
        }
    }

    /**
     * The person at the source's GUI must choose.
     *
     * @param targets         the candidates, sorted (never empty)
     * @param defaultTarget   the preselected candidate, or null
     * @param user            the user to run as, or null for the default user
     * @param autostart       whether the target may be started
     * @param notifyUser whether the user is notified
     * @param requestedTarget the intended target after normalisation
     * @param decidingRule    the matching rule
     */
    record Ask(List<String> targets, String defaultTarget, String user, boolean autostart, boolean notifyUser,
               String requestedTarget, Rule decidingRule) implements Decision {
        public Ask {
            targets = List.copyOf(targets);
            Objects.requireNonNull(requestedTarget, "requestedTarget");
            Objects.requireNonNull(decidingRule, "decidingRule");
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("an ask needs at least one candidate");
            }
            if (defaultTarget != null && !targets.contains(defaultTarget)) {
                throw new IllegalArgumentException("default target " + defaultTarget + " is not a candidate");
            }
        }

        @Override
        public Optional<Rule> rule() {
            return Optional.of(decidingRule);
        }

        @Override
        public String reason() {
            return "ask among " + targets + " by " + decidingRule.location();
        }
    }

    /**
     * The call is denied.
     *
     * @param message        the reference's AccessDenied text ({@code denied by policy F:L},
     *                       {@code no matching rule found}, {@code F:L: <syntax error>}, ...)
     * @param notifyUser whether the user would be notified of the denial
     * @param requestError   true when the request itself was invalid (bad intended-target token, bad
     *                       requested source); such denials follow the reference's notify rules
     * @param referenceCrash null, or what the reference does instead of answering (it crashes here;
     *                       we deny quietly), e.g. {@code KeyError: unknown source 'x'}
     * @param decidingRule   the rule that led to the denial, or null
     */
    record Deny(String message, boolean notifyUser, boolean requestError, String referenceCrash, Rule decidingRule)
            implements Decision {
        public Deny {
            Objects.requireNonNull(message, "message");
        }

        public static Deny of(String message, boolean notifyUser, Rule rule) {
            return new Deny(message, notifyUser, false, null, rule);
        }

        public boolean isReferenceCrash() {
            return referenceCrash != null;
        }

        @Override
        public Optional<Rule> rule() {
            return Optional.ofNullable(decidingRule);
        }

        @Override
        public String reason() {
            return referenceCrash == null ? message : message + " (reference crashes: " + referenceCrash + ")";
        }
    }
}
