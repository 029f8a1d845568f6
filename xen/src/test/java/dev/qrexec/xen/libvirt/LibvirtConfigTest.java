package dev.qrexec.xen.libvirt;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LibvirtConfigTest {

    @Test
    void flavorAndMemoryAccountingFollowTheUri() {
        LibvirtConfig xen = LibvirtConfig.builder("xen:///system").build();
        assertEquals(DomainFlavor.XEN, xen.flavor());
        assertFalse(xen.hostMemoryFromNodeSize(), "on Xen, libvirt's free memory is Xen's own");
        assertEquals(DomainFlavor.XEN, LibvirtConfig.builder("xen+ssh://root@host/system").build().flavor());
        assertEquals(DomainFlavor.KVM, LibvirtConfig.builder("qemu:///system").build().flavor());
        LibvirtConfig test = LibvirtConfig.builder("test:///default").build();
        assertEquals(DomainFlavor.TEST, test.flavor());
        assertTrue(test.hostMemoryFromNodeSize(), "the test driver's free figure is a constant");
        LibvirtConfig fixed = LibvirtConfig.builder("test:///default").hostMemoryMiB(512).build();
        assertEquals(Optional.of(512L), fixed.hostMemoryMiB());
        assertFalse(fixed.hostMemoryFromNodeSize());
    }

    @Test
    void defaults() {
        LibvirtConfig c = LibvirtConfig.builder("xen:///system").build();
        assertEquals("qrexec", c.instanceName());
        assertEquals("libvirt.so.0", c.libraryName());
        assertEquals(4, c.operationThreads());
        assertEquals(Duration.ofMillis(200), c.pollInterval());
        assertEquals(Optional.empty(), c.storageDir());
    }

    @Test
    void badSettingsAreRefusedWithTheSettingAndTheValue() {
        LibvirtConfig.Builder b = LibvirtConfig.builder("test:///default");
        assertMessage("libvirt URI 'vbox:///session': driver 'vbox' is not supported (want xen, qemu or test)",
                () -> LibvirtConfig.builder("vbox:///session"));
        assertMessage("libvirt URI 'nowhere' has no scheme (want xen:///system, qemu:///system or test:///default)",
                () -> LibvirtConfig.builder("nowhere"));
        assertMessage("instanceName 'bad name': 1 to 64 letters, digits, '_', '-' or '.', not starting with a "
                + "punctuation mark", () -> b.instanceName("bad name"));
        assertMessage("operationThreads must be between 1 and 64, was 0", () -> b.operationThreads(0));
        assertMessage("maxQueuedOperations must be positive, was -1", () -> b.maxQueuedOperations(-1));
        assertMessage("pollInterval must be between 10 ms and 1 min, was PT0.001S",
                () -> b.pollInterval(Duration.ofMillis(1)));
        assertMessage("hostMemoryMiB must be positive, was 0", () -> b.hostMemoryMiB(0));
        assertMessage("storageDir must be an absolute path, was relative", () -> b.storageDir(Path.of("relative")));
        assertMessage("libraryName must not be blank", () -> b.libraryName(" "));
    }

    private static void assertMessage(String expected, Executable call) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, call::execute).getMessage());
    }

    @FunctionalInterface
    private interface Executable {
        void execute();
    }
}
