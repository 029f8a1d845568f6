package dev.qrexec.xen;

import dev.qrexec.xen.sim.SimHypervisor;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HypervisorsTest {

    @Test
    void parsesTheOneLineForm() {
        HypervisorConfig config = HypervisorConfig.parse(
                "sim:instance=test-1,state-dir=/var/lib/q,boot-latency=1500ms,host-memory-mib=4096");
        assertEquals("sim", config.backend());
        assertEquals("test-1", config.instanceName());
        assertEquals(Optional.of(Path.of("/var/lib/q")), config.stateDir());
        assertEquals(Map.of("boot-latency", "1500ms", "host-memory-mib", "4096"), config.options());
        assertEquals(Duration.ofMillis(1500), config.durationOption("boot-latency", Duration.ZERO));
        assertEquals(4096, config.longOption("host-memory-mib", 0));
        assertEquals(7, config.longOption("absent", 7));
        assertEquals(config, HypervisorConfig.parse(config.toString()), "toString round-trips");
        assertEquals("sim", HypervisorConfig.parse("sim").backend());
    }

    @Test
    void readsEveryDurationForm() {
        HypervisorConfig config = HypervisorConfig.parse("sim:a=5ns,b=7us,c=2s,d=3m,e=1h,f=PT0.25S");
        assertEquals(Duration.ofNanos(5), config.durationOption("a", null));
        assertEquals(Duration.ofNanos(7000), config.durationOption("b", null));
        assertEquals(Duration.ofSeconds(2), config.durationOption("c", null));
        assertEquals(Duration.ofMinutes(3), config.durationOption("d", null));
        assertEquals(Duration.ofHours(1), config.durationOption("e", null));
        assertEquals(Duration.ofMillis(250), config.durationOption("f", null));
    }

    @Test
    void badConfigurationIsRefusedPrecisely() {
        assertEquals("option boot-latency of backend sim: expected a duration like 150ms, 2s, 1m or PT2S, was 'soon'",
                assertThrows(IllegalArgumentException.class, () -> HypervisorConfig.parse("sim:boot-latency=soon")
                        .durationOption("boot-latency", Duration.ZERO)).getMessage());
        assertEquals("option n of backend sim: expected a whole number, was '4k'",
                assertThrows(IllegalArgumentException.class,
                        () -> HypervisorConfig.parse("sim:n=4k").longOption("n", 0)).getMessage());
        assertEquals("hypervisor option 'oops' in 'sim:oops' is not key=value",
                assertThrows(IllegalArgumentException.class, () -> HypervisorConfig.parse("sim:oops")).getMessage());
        assertEquals("option a of backend sim given twice ('1' and '2')",
                assertThrows(IllegalArgumentException.class, () -> HypervisorConfig.parse("sim:a=1,a=2")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HypervisorConfig.parse("Sim"))
                .getMessage().startsWith("invalid backend name 'Sim'"));
    }

    @Test
    void makesTheNamedBackend() {
        try (Hypervisor hypervisor = Hypervisors.create(HypervisorConfig.parse("sim:instance=t,host-memory-mib=512"))) {
            SimHypervisor sim = assertInstanceOf(SimHypervisor.class, hypervisor);
            assertEquals("t", sim.instanceName());
            assertEquals(512L << 20, sim.hostMemory().totalBytes());
        }
        assertTrue(Hypervisors.available().contains("sim"), Hypervisors.available()::toString);
    }

    @Test
    void refusesUnknownBackendsAndOptions() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Hypervisors.create(HypervisorConfig.parse("xen")));
        assertTrue(unknown.getMessage().startsWith("unknown hypervisor backend 'xen'; available: "),
                unknown.getMessage());
        assertEquals("unknown option 'boot' for backend sim; known options: balloon-mib-per-s, boot-latency,"
                        + " host-memory-mib, kill-latency, pause-latency, shutdown-latency, unpause-latency",
                assertThrows(IllegalArgumentException.class,
                        () -> Hypervisors.create(HypervisorConfig.parse("sim:boot=1s"))).getMessage());
        assertEquals("bootLatency must not be negative, was PT-1S",
                assertThrows(IllegalArgumentException.class,
                        () -> Hypervisors.create(HypervisorConfig.parse("sim:boot-latency=PT-1S"))).getMessage());
        assertEquals(List.copyOf(Hypervisors.available()), Hypervisors.available().stream().sorted().toList());
    }
}
