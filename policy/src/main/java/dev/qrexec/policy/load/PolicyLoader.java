package dev.qrexec.policy.load;

import dev.qrexec.policy.Policy;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Loads a policy from its directories (spec section 1): file selection and order, the four
 * directives, the old service-less syntax, {@code !compat-4.0}, and every rule check.
 * Stateless and thread-safe: each call reads the files afresh.
 */
public final class PolicyLoader {

    private static final Logger LOG = System.getLogger(PolicyLoader.class.getName());

    private PolicyLoader() {
    }

    /**
     * Loads and validates the whole policy.
     *
     * @throws PolicyLoadException for the first problem found (syntax error, invalid file name,
     *                             missing include, include cycle, unreadable file)
     */
    public static Policy load(PolicyLocation location) throws PolicyLoadException {
        return new Policy(new LoadSession(location).load());
    }

    /**
     * Loads the policy, or, when it cannot be loaded, logs why and returns a policy that denies
     * everything with the load error as reason (what the reference daemon does).
     */
    public static Policy loadOrDenyAll(PolicyLocation location) {
        try {
            return load(location);
        } catch (PolicyLoadException e) {
            LOG.log(Level.ERROR, "error loading policy, denying every request: {0}", e.getMessage());
            return Policy.denyAll(e);
        }
    }
}
