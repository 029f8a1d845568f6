package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.contract.BackendAvailability;
import dev.qrexec.xen.libvirt.binding.Libvirt;
import dev.qrexec.xen.libvirt.binding.LibvirtLibrary;

import java.util.concurrent.atomic.AtomicInteger;

/** Shared bits of the libvirt tests: loading libvirt or skipping, unique names. */
final class LibvirtTestSupport {

    static final String TEST_URI = "test:///default";
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private LibvirtTestSupport() {
    }

    /** libvirt, or the test is skipped (failed in CI) when libvirt0 is not installed. */
    static LibvirtLibrary libvirtOrSkip() {
        try {
            return Libvirt.load(Libvirt.DEFAULT_LIBRARY);
        } catch (HypervisorException.BackendUnavailable e) {
            BackendAvailability.unavailable("libvirt", e.getMessage());
            throw e;
        }
    }

    static String uniqueName(String hint) {
        return "lv" + ProcessHandle.current().pid() % 10000 + "-" + COUNTER.incrementAndGet() + "-" + hint;
    }

    static int uniqueDomainId() {
        return 5000 + COUNTER.incrementAndGet();
    }

    static LibvirtConfig.Builder config() {
        libvirtOrSkip();
        return LibvirtConfig.builder(TEST_URI).instanceName("t" + ProcessHandle.current().pid());
    }
}
