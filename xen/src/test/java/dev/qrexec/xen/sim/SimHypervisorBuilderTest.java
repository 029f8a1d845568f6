package dev.qrexec.xen.sim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SimHypervisorBuilderTest {

    @Test
    void badValuesAreRefusedWithTheSettingAndTheValue() {
        assertMessage(IllegalArgumentException.class, "hostMemoryMiB must be positive, was 0",
                () -> SimHypervisor.builder().hostMemoryMiB(0));
        assertMessage(IllegalArgumentException.class, "bootLatency must not be negative, was PT-0.001S",
                () -> SimHypervisor.builder().bootLatency(Duration.ofMillis(-1)));
        assertMessage(IllegalArgumentException.class, "killLatency must not be negative, was PT-1S",
                () -> SimHypervisor.builder().killLatency(Duration.ofSeconds(-1)));
        assertMessage(IllegalArgumentException.class, "balloonRate must be positive, was 0 bytes/s",
                () -> SimHypervisor.builder().balloonRate(0));
        assertMessage(IllegalArgumentException.class, "memoryStep must be positive, was PT0S",
                () -> SimHypervisor.builder().memoryStep(Duration.ZERO));
        assertMessage(IllegalArgumentException.class, "maxQueuedOperations must not be negative, was -1",
                () -> SimHypervisor.builder().maxQueuedOperations(-1));
        assertMessage(IllegalArgumentException.class, "instanceName must not be blank",
                () -> SimHypervisor.builder().instanceName(" "));
        assertMessage(IllegalArgumentException.class,
                "hostMemoryMiB is too large to count in bytes: " + Long.MAX_VALUE,
                () -> SimHypervisor.builder().hostMemoryMiB(Long.MAX_VALUE));
    }

    @Test
    void aSettingCanBeSetOnlyOnce() {
        assertMessage(IllegalStateException.class, "bootLatency was already set to PT1S",
                () -> SimHypervisor.builder().bootLatency(Duration.ofSeconds(1)).bootLatency(Duration.ZERO));
        assertMessage(IllegalStateException.class, "hostMemoryMiB was already set to 10",
                () -> SimHypervisor.builder().hostMemoryMiB(10).hostMemoryMiB(20));
    }

    @Test
    void defaultsGiveAUsableBackend() {
        try (SimHypervisor sim = SimHypervisor.builder().build()) {
            assertEquals("sim", sim.backendName());
            assertEquals(16384L << 20, sim.hostMemory().totalBytes());
            assertEquals(sim.hostMemory().totalBytes(), sim.hostMemory().freeBytes());
        }
    }

    private static void assertMessage(Class<? extends Throwable> type, String message, Executable call) {
        assertEquals(message, assertThrows(type, call).getMessage());
    }
}
