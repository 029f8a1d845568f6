package dev.qrexec.tests.e2e;

import org.junit.jupiter.api.Assumptions;

/**
 * The sandbox backend needs bubblewrap and writable cgroups. Where they are missing the sandbox
 * tests are skipped, except under {@code CI=true} or {@code -Dqrexec.require-sandbox=true}, where
 * a missing sandbox is a failure.
 */
final class SandboxRequirement {

    private SandboxRequirement() {
    }

    static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("qrexec.require-sandbox");
    }

    /** Skips (or fails, when required) because the sandbox cannot run here. */
    static void unavailable(String reason) {
        if (required()) {
            throw new AssertionError("the sandbox backend is required (CI=true or -Dqrexec.require-sandbox=true)"
                    + " but unavailable: " + reason);
        }
        Assumptions.abort("sandbox unavailable: " + reason);
    }
}
