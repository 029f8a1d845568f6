package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.EventRecorder;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtLibrary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backend touches only its own domains, finds them again after a restart, and notices what
 * others do to them. An "outsider" connection plays {@code virsh}: test:///default is shared by
 * all connections of one process, and keeping it open keeps the driver's state across a backend
 * restart.
 */
class LibvirtOwnershipTest {

    @TempDir
    Path tempDir;
    private LibvirtConnection outsider;
    private final List<LibvirtHypervisor> opened = new ArrayList<>();

    @BeforeEach
    void openOutsider() {
        outsider = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), LibvirtTestSupport.TEST_URI);
    }

    @AfterEach
    void closeAll() {
        opened.forEach(LibvirtHypervisor::close);
        if (outsider != null) {
            outsider.close();
        }
    }

    private LibvirtHypervisor open(String instance) {
        LibvirtHypervisor h = LibvirtHypervisor.open(LibvirtTestSupport.config().instanceName(instance).build());
        opened.add(h);
        return h;
    }

    @Test
    void thePredefinedTestDomainIsNeverTouched() throws Exception {
        LibvirtHypervisor h = open("owner");
        assertFalse(h.list().contains("test"));
        assertThrows(HypervisorException.NoSuchQube.class, () -> h.state("test"));
        assertFails(HypervisorException.NoSuchQube.class, h.kill("test"));
        assertFails(HypervisorException.NoSuchQube.class, h.pause("test"));
        assertFails(HypervisorException.NoSuchQube.class, h.undefine("test"));
        HypervisorException.AlreadyDefined clash = assertFails(HypervisorException.AlreadyDefined.class,
                h.define(QubeSpec.builder("test", LibvirtTestSupport.uniqueDomainId()).build()));
        assertTrue(clash.getMessage().contains("not a qube of this backend"), clash.getMessage());
        assertFalse(h.list().contains("test"));
        try (DomainHandle test = outsider.lookupByName("test")) {
            assertNotNull(test, "the test driver's own domain is still defined");
            assertEquals(DomainHandle.STATE_RUNNING, test.state()[0]);
        }
    }

    @Test
    void anotherInstanceDoesNotSeeMyQubes() throws Exception {
        LibvirtHypervisor mine = open("mine");
        LibvirtHypervisor theirs = open("theirs");
        String name = LibvirtTestSupport.uniqueName("own");
        mine.define(QubeSpec.builder(name, LibvirtTestSupport.uniqueDomainId()).build()).get(10, TimeUnit.SECONDS);
        assertTrue(mine.list().contains(name));
        assertFalse(theirs.list().contains(name));
        assertThrows(HypervisorException.NoSuchQube.class, () -> theirs.state(name));
        assertFails(HypervisorException.AlreadyDefined.class,
                theirs.define(QubeSpec.builder(name, LibvirtTestSupport.uniqueDomainId()).build()));
        mine.undefine(name).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aRestartedBackendFindsItsQubesWithTheirSpecsAndStates() throws Exception {
        LibvirtHypervisor before = open("restart");
        String running = LibvirtTestSupport.uniqueName("run");
        String halted = LibvirtTestSupport.uniqueName("halt");
        Files.createDirectories(tempDir.resolve("dvm-private"));
        Files.writeString(tempDir.resolve("dvm-private/home.txt"), "from the template");
        QubeSpec runningSpec = QubeSpec.builder(running, LibvirtTestSupport.uniqueDomainId())
                .memoryMiB(300).maxMemoryMiB(600).vcpus(3).discardOnStop(true)
                .privateSource(tempDir.resolve("dvm-private")).privateStorage(tempDir.resolve("disp-private"))
                .templateRoot(tempDir.resolve("root.img")).channelDir(tempDir.resolve("chan"))
                .init(java.util.List.of("/bin/agent", "--x")).environment(java.util.Map.of("A", "b c"))
                .build();
        before.define(runningSpec).get(10, TimeUnit.SECONDS);
        before.define(QubeSpec.builder(halted, LibvirtTestSupport.uniqueDomainId()).build()).get(10, TimeUnit.SECONDS);
        before.start(running).get(10, TimeUnit.SECONDS);
        before.pause(running).get(10, TimeUnit.SECONDS);
        before.close();

        LibvirtHypervisor after = open("restart");
        assertTrue(after.list().containsAll(List.of(running, halted)), after.list()::toString);
        assertEquals(runningSpec, after.spec(running));
        assertEquals(QubeState.PAUSED, after.state(running));
        assertEquals(QubeState.HALTED, after.state(halted));
        assertEquals(runningSpec.memoryMiB() << 20, after.memory(running).currentBytes());
        after.kill(running).get(10, TimeUnit.SECONDS);
        after.undefine(running).get(10, TimeUnit.SECONDS);
        after.undefine(halted).get(10, TimeUnit.SECONDS);
        assertFalse(after.list().contains(running));
    }

    @Test
    void aDomainWithDamagedMetadataIsLeftAloneAtRecovery() {
        String name = LibvirtTestSupport.uniqueName("damaged");
        String xml = "<domain type='test'><name>" + name + "</name><memory>65536</memory>"
                + "<metadata><q:qube xmlns:q='" + QubeMetadata.NAMESPACE + "' instance='damaged' domid='many'/>"
                + "</metadata><os><type>xen</type></os></domain>";
        try (DomainHandle d = outsider.define(name, xml)) {
            try {
                LibvirtHypervisor h = open("damaged");
                assertFalse(h.list().contains(name), "not adopted");
                try (DomainHandle still = outsider.lookupByName(name)) {
                    assertNotNull(still, "and not touched");
                }
            } finally {
                d.undefine(0);
            }
        }
    }

    @Test
    void aDomainDestroyedOutsideTheBackendDiesWithTheReason() throws Exception {
        LibvirtHypervisor h = open("outside");
        EventRecorder events = new EventRecorder();
        h.subscribe(events);
        String name = LibvirtTestSupport.uniqueName("die");
        h.define(QubeSpec.builder(name, LibvirtTestSupport.uniqueDomainId()).build()).get(10, TimeUnit.SECONDS);
        h.start(name).get(10, TimeUnit.SECONDS);

        try (DomainHandle d = outsider.lookupByName(name)) {
            d.suspend();
            events.awaitKinds(name, Duration.ofSeconds(10), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.PAUSED);
            assertEquals(QubeState.PAUSED, h.state(name));
            d.resume();
            events.awaitKinds(name, Duration.ofSeconds(10), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.PAUSED,
                    LifecycleEvent.Kind.UNPAUSED);
            d.destroy();
        }
        events.awaitKinds(name, Duration.ofSeconds(10), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.PAUSED,
                LifecycleEvent.Kind.UNPAUSED, LifecycleEvent.Kind.DIED);
        assertEquals("destroyed outside this backend", events.of(name).get(3).reason());
        await().atMost(Duration.ofSeconds(10)).until(() -> h.state(name) == QubeState.HALTED);
        h.start(name).get(10, TimeUnit.SECONDS);  // and it can run again
        h.kill(name).get(10, TimeUnit.SECONDS);
        h.undefine(name).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aBurstOfEventsWhileTheQubeIsBusyDoesNotCrowdOutOperations() throws Exception {
        LibvirtHypervisor h = open("burst");
        String name = LibvirtTestSupport.uniqueName("burst");
        h.define(QubeSpec.builder(name, LibvirtTestSupport.uniqueDomainId()).build()).get(10, TimeUnit.SECONDS);
        h.start(name).get(10, TimeUnit.SECONDS);
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        h.shutdownRequest(d -> {  // holds the qube's queue, as a slow libvirt call would
            busy.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CompletableFuture<Void> shutdown = h.shutdown(name, Duration.ofMinutes(5));
        assertTrue(busy.await(10, TimeUnit.SECONDS));
        // libvirt calls callbacks in registration order, so once this one has seen all 200 events,
        // the backend's (registered earlier) has seen them too.
        AtomicInteger seen = new AtomicInteger();
        LibvirtLibrary.LifecycleCallback counter = (c, dom, event, detail, opaque) -> {
            if (name.equals(LibvirtTestSupport.libvirtOrSkip().virDomainGetName(dom))) {
                seen.incrementAndGet();
            }
            return 0;
        };
        int callbackId = outsider.registerLifecycle(counter);
        try (DomainHandle d = outsider.lookupByName(name)) {
            for (int i = 0; i < 100; i++) {  // 200 events, more than a qube's queue holds
                d.suspend();
                d.resume();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.get() >= 200);
        } finally {
            outsider.deregister(callbackId);
        }
        CompletableFuture<Void> kill = h.kill(name);  // refused ("64 operations already wait") without coalescing
        release.countDown();
        kill.get(10, TimeUnit.SECONDS);
        shutdown.get(10, TimeUnit.SECONDS);
        assertEquals(QubeState.HALTED, h.state(name));
        h.undefine(name).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aDomainUndefinedOutsideTheBackendIsForgotten() throws Exception {
        LibvirtHypervisor h = open("forget");
        String name = LibvirtTestSupport.uniqueName("gone");
        h.define(QubeSpec.builder(name, LibvirtTestSupport.uniqueDomainId()).build()).get(10, TimeUnit.SECONDS);
        try (DomainHandle d = outsider.lookupByName(name)) {
            d.undefine(0);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !h.list().contains(name));
    }

    private static <E extends Throwable> E assertFails(Class<E> type, CompletableFuture<?> future) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(type, e.getCause());
    }
}
