package dev.qrexec.xen.contract;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BackendAvailabilityTest {

    @Test
    void anAvailableBackendRuns() {
        BackendAvailability.assumeAvailable("x", true, "never shown");
    }

    @Test
    void anUnavailableBackendIsSkippedOrFailsWhenRequired() {
        String previous = System.getProperty(BackendAvailability.REQUIRE_PROPERTY);
        try {
            System.setProperty(BackendAvailability.REQUIRE_PROPERTY, "true");
            AssertionFailedError failure = assertThrows(AssertionFailedError.class,
                    () -> BackendAvailability.assumeAvailable("sandbox", false, "bwrap not found"));
            assertEquals("backend 'sandbox' must run here (CI=true or -Dqrexec.require-sandbox=true) but cannot:"
                    + " bwrap not found", failure.getMessage());

            System.setProperty(BackendAvailability.REQUIRE_PROPERTY, "false");
            if (!"true".equalsIgnoreCase(System.getenv("CI"))) {
                TestAbortedException skipped = assertThrows(TestAbortedException.class,
                        () -> BackendAvailability.unavailable("sandbox", "bwrap not found"));
                assertEquals(true, skipped.getMessage().contains("cannot run here: bwrap not found"));
            }
        } finally {
            if (previous == null) {
                System.clearProperty(BackendAvailability.REQUIRE_PROPERTY);
            } else {
                System.setProperty(BackendAvailability.REQUIRE_PROPERTY, previous);
            }
        }
    }
}
