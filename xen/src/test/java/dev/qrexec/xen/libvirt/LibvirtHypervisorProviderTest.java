package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.Hypervisors;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LibvirtHypervisorProviderTest {

    @Test
    void theOneLineConfigurationOpensTheBackend() {
        LibvirtTestSupport.libvirtOrSkip();
        try (Hypervisor h = Hypervisors.create(HypervisorConfig.parse(
                "libvirt:uri=test:///default,instance=provider,operation-threads=2,poll-interval=50ms,"
                        + "host-memory-mib=2048,kernel=/boot/vmlinuz,kernel-args=console=hvc0"))) {
            LibvirtHypervisor libvirt = assertInstanceOf(LibvirtHypervisor.class, h);
            assertEquals("libvirt", h.backendName());
            LibvirtConfig c = libvirt.config();
            assertEquals("test:///default", c.uri());
            assertEquals("provider", c.instanceName());
            assertEquals(2, c.operationThreads());
            assertEquals(Duration.ofMillis(50), c.pollInterval());
            assertEquals(Optional.of(2048L), c.hostMemoryMiB());
            assertEquals(2048L << 20, h.hostMemory().totalBytes());
            assertEquals(Optional.of(new BootImage(java.nio.file.Path.of("/boot/vmlinuz"), Optional.empty(),
                    "console=hvc0")), c.boot());
        }
        assertTrue(Hypervisors.available().contains("libvirt"), Hypervisors.available()::toString);
    }

    @Test
    void unknownOptionsAreRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Hypervisors.create(HypervisorConfig.parse("libvirt:url=test:///default")));
        assertEquals("unknown option 'url' for backend libvirt; known options: host-memory-mib, initrd, "
                + "kernel, kernel-args, library, operation-threads, poll-interval, uri", e.getMessage());
        IllegalArgumentException noKernel = assertThrows(IllegalArgumentException.class,
                () -> Hypervisors.create(HypervisorConfig.parse("libvirt:uri=test:///default,kernel-args=quiet")));
        assertEquals("options initrd and kernel-args of backend libvirt need the option kernel", noKernel.getMessage());
    }
}
