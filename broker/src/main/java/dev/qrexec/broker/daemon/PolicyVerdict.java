package dev.qrexec.broker.daemon;

import java.util.Objects;
import java.util.Optional;

/**
 * What the policy answered, in the terms of the policy daemon's reply (spec qrexec-policy.md 5.7,
 * 7.1): a deny with its reason, or an allow naming the resolved target.
 */
public sealed interface PolicyVerdict permits PolicyVerdict.Deny, PolicyVerdict.Allow {

    record Deny(String reason) implements PolicyVerdict {
        public Deny {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * @param user            user to run as, {@code DEFAULT} for the daemon's default user
     * @param target          {@code dom0}, {@code @dispvm:T}, a qube name or {@code uuid:...}
     * @param autostart       whether a halted target may be started
     * @param requestedTarget the normalised intended target (used in dom0 command lines)
     * @param service         a replacement for {@code svc+arg} (RemoteVM relays), if any
     * @param policySource    the source the policy acted for (requested_source), if any
     */
    record Allow(String user, String target, boolean autostart, String requestedTarget,
                 Optional<String> service, Optional<String> policySource) implements PolicyVerdict {
        public Allow {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(requestedTarget, "requestedTarget");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(policySource, "policySource");
        }

        public static Allow to(String target) {
            return new Allow("DEFAULT", target, true, target, Optional.empty(), Optional.empty());
        }

        public boolean isDom0() {
            return target.equals("dom0");
        }

        /** The template if the target is {@code @dispvm:T}. */
        public Optional<String> dispvmTemplate() {
            return target.startsWith("@dispvm:") ? Optional.of(target.substring("@dispvm:".length()))
                    : Optional.empty();
        }
    }
}
