package dev.qrexec.broker.daemon;

import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the daemon, validated on construction.
 *
 * @param defaultUser        user that replaces {@code DEFAULT} in command lines sent to agents
 * @param maxCallsPerQube    calls one qube may have in flight (policy, setup, data); more are refused
 * @param policyThreads      threads evaluating policy (it may block on files or system info; an ask
 *                           waiting for the user holds none, see {@link CallPolicy#evaluateAsync});
 *                           where evaluation can block long, size it above {@code maxCallsPerQube}
 *                           so one qube's blocked calls cannot hold every thread
 * @param policyQueue        calls waiting for a policy thread; more are refused
 * @param dataConnectTimeout how long a data endpoint may take to appear or connect
 * @param agentRetryMax      longest pause between attempts to reach an agent's control socket
 * @param serviceThreads     threads running dom0 services (each call holds one while it runs)
 */
public record DaemonConfig(String defaultUser, int maxCallsPerQube, int policyThreads, int policyQueue,
                           Duration dataConnectTimeout, Duration agentRetryMax, int serviceThreads) {

    public DaemonConfig {
        Objects.requireNonNull(defaultUser, "defaultUser");
        Objects.requireNonNull(dataConnectTimeout, "dataConnectTimeout");
        Objects.requireNonNull(agentRetryMax, "agentRetryMax");
        if (defaultUser.isEmpty() || defaultUser.contains(":")) {
            throw new IllegalArgumentException("defaultUser must be a non-empty name without ':', got '"
                    + defaultUser + "'");
        }
        requirePositive("maxCallsPerQube", maxCallsPerQube);
        requirePositive("policyThreads", policyThreads);
        requirePositive("policyQueue", policyQueue);
        requirePositive("serviceThreads", serviceThreads);
        if (dataConnectTimeout.isNegative() || dataConnectTimeout.isZero()) {
            throw new IllegalArgumentException("dataConnectTimeout must be > 0, got " + dataConnectTimeout);
        }
        if (agentRetryMax.toMillis() < 10) {
            throw new IllegalArgumentException("agentRetryMax must be >= 10ms, got " + agentRetryMax);
        }
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    /** The defaults: user {@code user}, 32 calls per qube, 4 policy threads, 5 s data timeout. */
    public static DaemonConfig defaults() {
        return new DaemonConfig("user", 32, 4, 256, Duration.ofSeconds(5), Duration.ofSeconds(1), 16);
    }

    public DaemonConfig withMaxCallsPerQube(int n) {
        return new DaemonConfig(defaultUser, n, policyThreads, policyQueue, dataConnectTimeout, agentRetryMax,
                serviceThreads);
    }

    public DaemonConfig withPolicyThreads(int n) {
        return new DaemonConfig(defaultUser, maxCallsPerQube, n, policyQueue, dataConnectTimeout, agentRetryMax,
                serviceThreads);
    }

    public DaemonConfig withDefaultUser(String user) {
        return new DaemonConfig(user, maxCallsPerQube, policyThreads, policyQueue, dataConnectTimeout,
                agentRetryMax, serviceThreads);
    }

    public DaemonConfig withDataConnectTimeout(Duration timeout) {
        return new DaemonConfig(defaultUser, maxCallsPerQube, policyThreads, policyQueue, timeout, agentRetryMax,
                serviceThreads);
    }
}
