package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.contract.EventRecorder;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the contract suite does not cover: memory, storage, leaks, closing, libvirt-specific errors. */
class LibvirtHypervisorTest {

    private static final long MIB = 1L << 20;

    @TempDir
    Path tempDir;
    private LibvirtHypervisor hypervisor;
    private LibvirtConnection outsider;

    @AfterEach
    void close() {
        if (hypervisor != null) {
            for (String name : hypervisor.list()) {
                if (hypervisor.state(name) != QubeState.HALTED) {
                    get(hypervisor.kill(name));
                }
                get(hypervisor.undefine(name));
            }
            hypervisor.close();
        }
        if (outsider != null) {
            outsider.close();
        }
    }

    private String define(QubeSpec.Builder spec) {
        QubeSpec s = spec.build();
        get(hypervisor.define(s));
        return s.name();
    }

    private static QubeSpec.Builder spec(String hint) {
        return QubeSpec.builder(LibvirtTestSupport.uniqueName(hint), LibvirtTestSupport.uniqueDomainId())
                .memoryMiB(64).maxMemoryMiB(256);
    }

    @Test
    void memoryTargetReachesLibvirtAndIsReadBack() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().build());
        String name = define(spec("mem"));
        get(hypervisor.start(name));
        assertEquals(64 * MIB, hypervisor.memory(name).currentBytes());
        get(hypervisor.setMemoryTarget(name, 200 * MIB));
        assertEquals(200 * MIB, hypervisor.memory(name).targetBytes());
        assertEquals(200 * MIB, hypervisor.memory(name).currentBytes(), "the test driver applies it at once");
        assertThrows(IllegalArgumentException.class, () -> hypervisor.setMemoryTarget(name, 300 * MIB));
        get(hypervisor.kill(name));
        assertEquals(0, hypervisor.memory(name).currentBytes());
        assertFails(HypervisorException.InvalidState.class, hypervisor.setMemoryTarget(name, 100 * MIB));
    }

    @Test
    void startFailsWithInsufficientMemoryUntilRoomIsMade() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().hostMemoryMiB(100).build());
        assertEquals(new HostMemory(100 * MIB, 100 * MIB), hypervisor.hostMemory());
        String first = define(spec("m1"));
        String second = define(spec("m2"));
        get(hypervisor.start(first));
        assertEquals(new HostMemory(100 * MIB, 36 * MIB), hypervisor.hostMemory());
        HypervisorException.InsufficientMemory e =
                assertFails(HypervisorException.InsufficientMemory.class, hypervisor.start(second));
        assertEquals("not enough memory: 64 MiB asked, 36 free", e.getMessage());
        assertEquals(QubeState.HALTED, hypervisor.state(second));
        get(hypervisor.shutdown(first, Duration.ofSeconds(5)));
        get(hypervisor.start(second));
        assertEquals(QubeState.RUNNING, hypervisor.state(second));
    }

    @Test
    void testDriverHostMemoryIsTheNodeSizeMinusOurQubes() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().build());
        HostMemory idle = hypervisor.hostMemory();
        assertEquals(3L << 30, idle.totalBytes(), "the test driver's node has 3 GiB");
        String name = define(spec("host"));
        get(hypervisor.start(name));
        assertEquals(idle.freeBytes() - 64 * MIB, hypervisor.hostMemory().freeBytes());
    }

    @Test
    void disposableStorageIsPreparedAndDiscarded() throws Exception {
        Path storage = tempDir.resolve("storage");
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().storageDir(storage).build());
        Path source = Files.createDirectories(tempDir.resolve("dvm/private"));
        Files.writeString(source.resolve("settings"), "from the template");
        Path privateDir = tempDir.resolve("disp/private");
        String name = define(spec("disp").volatileSizeMiB(8).discardOnStop(true)
                .privateSource(source).privateStorage(privateDir));
        Path volatileImage = storage.resolve(name).resolve("volatile.img");
        assertFalse(Files.exists(privateDir));

        get(hypervisor.start(name));
        assertEquals("from the template", Files.readString(privateDir.resolve("settings")));
        assertEquals(8 * MIB, Files.size(volatileImage));

        get(hypervisor.shutdown(name, Duration.ofSeconds(5)));
        assertFalse(Files.exists(privateDir), "a disposable's private storage is gone once it stopped");
        assertFalse(Files.exists(volatileImage));
        assertEquals("from the template", Files.readString(source.resolve("settings")), "the source is untouched");

        get(hypervisor.undefine(name));
        assertFalse(Files.exists(storage.resolve(name)));
    }

    @Test
    void everyDomainHandleIsFreed() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().build());
        String name = define(spec("leak"));
        for (int i = 0; i < 3; i++) {
            get(hypervisor.start(name));
            get(hypervisor.pause(name));
            get(hypervisor.unpause(name));
            get(hypervisor.setMemoryTarget(name, 32 * MIB));
            get(hypervisor.shutdown(name, Duration.ofSeconds(5)));
        }
        assertFails(HypervisorException.InvalidState.class, hypervisor.pause(name));
        await().atMost(Duration.ofSeconds(10)).until(() -> hypervisor.openDomainHandles() == 0);
    }

    @Test
    void closeStopsTheThreadsAndLeavesQubesRunning() {
        // Holding a connection keeps test:///default's state when the backend's own goes.
        outsider = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), LibvirtTestSupport.TEST_URI);
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().instanceName("closing").build());
        String name = define(spec("keep"));
        get(hypervisor.start(name));
        hypervisor.close();
        HypervisorException.OperationFailed e =
                assertFails(HypervisorException.OperationFailed.class, hypervisor.kill(name));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        await().atMost(Duration.ofSeconds(10)).until(() -> !LibvirtEventLoop.running());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("qrexec-libvirt-") && t.getName().contains("closing")),
                "no thread of the closed backend is left");

        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().instanceName("closing").build());
        assertEquals(QubeState.RUNNING, hypervisor.state(name), "a new backend finds the qube still running");
    }

    @Test
    void aGuestIgnoringShutdownIsKilledAtTheDeadline() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().pollInterval(Duration.ofMillis(20)).build());
        EventRecorder events = new EventRecorder();
        hypervisor.subscribe(events);
        String name = define(spec("deaf"));
        get(hypervisor.start(name));
        hypervisor.shutdownRequest(d -> { });  // the guest never acts on the request
        CompletableFuture<Void> shutdown = hypervisor.shutdown(name, Duration.ofMillis(300));
        await().atMost(Duration.ofSeconds(5)).until(() -> hypervisor.state(name) == QubeState.STOPPING
                || shutdown.isDone());
        assertFalse(shutdown.isDone(), "still waiting for the guest");
        CompletableFuture<Void> second = hypervisor.shutdown(name, Duration.ofSeconds(30));
        get(shutdown);
        get(second);
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        events.awaitKinds(name, Duration.ofSeconds(5), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.HALTED);
        assertEquals("killed: did not shut down within PT0.3S", events.of(name).get(1).reason());
    }

    @Test
    void aKillDuringAShutdownEndsItAtOnce() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().build());
        String name = define(spec("impatient"));
        get(hypervisor.start(name));
        hypervisor.shutdownRequest(d -> { });
        CompletableFuture<Void> shutdown = hypervisor.shutdown(name, Duration.ofMinutes(5));
        get(hypervisor.kill(name));
        get(shutdown);
        assertEquals(QubeState.HALTED, hypervisor.state(name));
    }

    @Test
    void aQubeStartedOutsideTheBackendIsReportedRunning() {
        outsider = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), LibvirtTestSupport.TEST_URI);
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().build());
        EventRecorder events = new EventRecorder();
        hypervisor.subscribe(events);
        String name = define(spec("virsh"));
        try (DomainHandle d = outsider.lookupByName(name)) {
            d.create();
        }
        events.awaitKinds(name, Duration.ofSeconds(5), LifecycleEvent.Kind.STARTED);
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
    }

    @Test
    void manyQubesInParallelEachGetTheirEventsInOrder() {
        hypervisor = LibvirtHypervisor.open(LibvirtTestSupport.config().operationThreads(4).build());
        EventRecorder events = new EventRecorder();
        hypervisor.subscribe(events);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            names.add(define(spec("par" + i)));
        }
        // Every qube's whole life-cycle is submitted at once, without waiting in between:
        // the per-qube order must hold while the pool runs qubes side by side.
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String name : names) {
            all.add(hypervisor.start(name));
            all.add(hypervisor.pause(name));
            all.add(hypervisor.unpause(name));
            all.add(hypervisor.shutdown(name, Duration.ofSeconds(5)));
        }
        get(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)));
        for (String name : names) {
            assertEquals(QubeState.HALTED, hypervisor.state(name));
            events.awaitKinds(name, Duration.ofSeconds(5), LifecycleEvent.Kind.STARTED, LifecycleEvent.Kind.PAUSED,
                    LifecycleEvent.Kind.UNPAUSED, LifecycleEvent.Kind.HALTED);
        }
        assertEquals(hypervisor.hostMemory().totalBytes(), hypervisor.hostMemory().freeBytes());
        await().atMost(Duration.ofSeconds(10)).until(() -> hypervisor.openDomainHandles() == 0);
    }

    @Test
    void missingLibraryIsBackendUnavailableWithTheInstallHint() {
        LibvirtConfig config = LibvirtConfig.builder("test:///default").libraryName("libvirt-absent.so.0").build();
        HypervisorException.BackendUnavailable e = assertThrows(HypervisorException.BackendUnavailable.class,
                () -> LibvirtHypervisor.open(config));
        assertTrue(e.getMessage().startsWith("libvirt not found: apt-get install libvirt0"), e.getMessage());
    }

    @Test
    void unreachableUriIsBackendUnavailableWithLibvirtsMessage() {
        LibvirtConfig config = LibvirtTestSupport.config().build();
        LibvirtConfig broken = new LibvirtConfig("test:///nonexistent/qrexec-test.xml", config.instanceName(),
                config.libraryName(), config.flavor(), 1, 8, config.pollInterval(), config.hostMemoryMiB(),
                true, config.storageDir(), Optional.empty());
        HypervisorException.BackendUnavailable e = assertThrows(HypervisorException.BackendUnavailable.class,
                () -> LibvirtHypervisor.open(broken));
        assertTrue(e.getMessage().startsWith("cannot connect to libvirt at test:///nonexistent/qrexec-test.xml: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("nonexistent"), e.getMessage());
    }

    private static <T> T get(CompletableFuture<T> f) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static <E extends Throwable> E assertFails(Class<E> type, CompletableFuture<?> future) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(type, e.getCause(), () -> "wrong error: " + e.getCause());
    }
}
