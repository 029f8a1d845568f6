package dev.qrexec.xen.libvirt.binding;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.contract.BackendAvailability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which life-cycle events libvirt's test driver emits, and with which detail: the backend's design
 * (events trigger a state re-read; the operation that succeeded publishes the transition) relies
 * on nothing more than this, and this test fails if a libvirt update changes it.
 */
class TestDriverEventsTest {

    private LibvirtLibrary lib;
    private LibvirtConnection conn;
    private int callbackId;
    private final List<String> seen = new ArrayList<>();
    private String name;
    /** Strongly referenced while registered. */
    private final LibvirtLibrary.LifecycleCallback callback = (c, dom, event, detail, opaque) -> {
        if (name.equals(lib.virDomainGetName(dom))) {
            synchronized (seen) {
                seen.add(event + "/" + detail);
            }
        }
        return 0;
    };

    @BeforeEach
    void open() {
        try {
            lib = Libvirt.load(Libvirt.DEFAULT_LIBRARY);
        } catch (HypervisorException.BackendUnavailable e) {
            BackendAvailability.unavailable("libvirt", e.getMessage());
        }
        LibvirtEventLoop.acquire(lib);
        conn = LibvirtConnection.open(lib, "test:///default");
        callbackId = conn.registerLifecycle(callback);
        name = "ev" + ProcessHandle.current().pid();
    }

    @AfterEach
    void close() {
        if (conn != null) {
            conn.deregister(callbackId);
            conn.close();
            LibvirtEventLoop.release(lib);
        }
    }

    @Test
    void everyLifeCycleCallEmitsOneEvent() {
        try (DomainHandle d = conn.define(name, "<domain type='test'><name>" + name + "</name>"
                + "<memory unit='MiB'>64</memory><os><type>xen</type></os></domain>")) {
            d.create();
            d.suspend();
            d.resume();
            d.setMemoryKiB(32 * 1024, LibvirtLibrary.VIR_DOMAIN_AFFECT_LIVE);  // no life-cycle event
            d.shutdown();
            d.create();
            d.destroy();
            d.undefine(0);
        }
        // event/detail: DEFINED/ADDED, STARTED/BOOTED, SUSPENDED/PAUSED, RESUMED/UNPAUSED,
        // STOPPED/SHUTDOWN, STARTED/BOOTED, STOPPED/DESTROYED, UNDEFINED/REMOVED
        List<String> expected = List.of("0/0", "2/0", "3/0", "4/0", "5/0", "2/0", "5/1", "1/0");
        await().atMost(Duration.ofSeconds(10)).until(() -> snapshot().size() >= expected.size());
        assertEquals(expected, snapshot());
    }

    @Test
    void eventLoopThreadStopsWithItsLastUserAndStartsAgain() {
        assertEquals(true, LibvirtEventLoop.running());
        LibvirtEventLoop.acquire(lib);
        LibvirtEventLoop.release(lib);
        assertEquals(true, LibvirtEventLoop.running(), "still one user left");
    }

    private List<String> snapshot() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }
}
