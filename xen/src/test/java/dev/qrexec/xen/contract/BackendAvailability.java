package dev.qrexec.xen.contract;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Lets a backend's tests say "I cannot run here" without hiding a broken CI machine: the tests are
 * skipped (a JUnit assumption) on a developer box that lacks, say, bubblewrap or libvirt, but they
 * fail when {@code -Dqrexec.require-sandbox=true} is given or the environment has {@code CI=true}.
 */
public final class BackendAvailability {

    /** System property that turns "skip" into "fail". */
    public static final String REQUIRE_PROPERTY = "qrexec.require-sandbox";

    private BackendAvailability() {
    }

    /** True when an unavailable backend must fail the build instead of being skipped. */
    public static boolean required() {
        return Boolean.getBoolean(REQUIRE_PROPERTY) || "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips (or, when {@link #required()}, fails) the calling test unless {@code available}. */
    public static void assumeAvailable(String backend, boolean available, String whyNot) {
        if (!available) {
            unavailable(backend, whyNot);
        }
    }

    /** Skips (or, when {@link #required()}, fails) the calling test: {@code backend} cannot run here. */
    public static void unavailable(String backend, String whyNot) {
        if (required()) {
            Assertions.fail("backend '" + backend + "' must run here (CI=true or -D" + REQUIRE_PROPERTY
                    + "=true) but cannot: " + whyNot);
        }
        Assumptions.abort("backend '" + backend + "' cannot run here: " + whyNot
                + " (set -D" + REQUIRE_PROPERTY + "=true to make this a failure)");
    }
}
