package dev.qrexec.xen.contract;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every {@link Hypervisor} backend must do, as one abstract JUnit 5 suite. A backend adds a
 * subclass that implements {@link #createHypervisor} (and, if its qubes need more than the default
 * spec, overrides {@link #specFor}). The suite makes no timing assertion: it waits for futures with
 * {@link #operationTimeout()} and for events with Awaitility, so it runs on real backends too.
 *
 * <p>A backend that cannot run on this machine throws
 * {@link HypervisorException.BackendUnavailable} from {@link #createHypervisor}: every test is then
 * skipped, or fails if {@link BackendAvailability#required()}.
 *
 * <p>Errors: an operation that fails may complete its future exceptionally (preferred) or throw at
 * once; both are accepted, and the error type must be the documented one.
 */
public abstract class HypervisorContract {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long MIB = 1L << 20;

    /** A fresh directory per test, for backends that need files (storage, sockets, state). */
    @TempDir
    protected Path tempDir;

    /** The backend under test, made fresh for every test. */
    protected Hypervisor hypervisor;

    /** Records every event the backend delivers during the test. */
    protected final EventRecorder events = new EventRecorder();

    private final List<String> defined = new ArrayList<>();

    /**
     * Makes the backend under test. Throw {@link HypervisorException.BackendUnavailable} when it
     * cannot run here (see {@link BackendAvailability}).
     */
    protected abstract Hypervisor createHypervisor(Path tempDir) throws Exception;

    /** What a qube of this test looks like; override to add an init command, storage paths, ... */
    protected QubeSpec.Builder specFor(String name, int domainId) {
        return QubeSpec.builder(name, domainId).memoryMiB(64).maxMemoryMiB(256).vcpus(1)
                .volatileSizeMiB(16);
    }

    /** How long one operation may take before the test fails. */
    protected Duration operationTimeout() {
        return Duration.ofSeconds(30);
    }

    /** A name no other test (of this JVM or, likely, of a parallel one) uses. */
    protected String uniqueName(String hint) {
        String name = "ct" + ProcessHandle.current().pid() % 10000 + "-" + COUNTER.incrementAndGet() + "-" + hint;
        return name.length() > 31 ? name.substring(0, 31) : name;
    }

    /** A domain id no other test of this JVM uses; spread by process id to keep parallel runs apart. */
    protected int uniqueDomainId() {
        return 1000 + (int) (ProcessHandle.current().pid() % 200) * 100 + COUNTER.incrementAndGet() % 100;
    }

    /** Whether the backend assigns the spec's domain id itself and so can refuse a used one. */
    protected boolean enforcesUniqueDomainIds() {
        return true;
    }

    @BeforeEach
    final void setUpHypervisor() throws Exception {
        try {
            hypervisor = createHypervisor(tempDir);
        } catch (HypervisorException.BackendUnavailable e) {
            BackendAvailability.unavailable(getClass().getSimpleName(), e.getMessage());
        }
        hypervisor.subscribe(events);
    }

    @AfterEach
    final void tearDownHypervisor() {
        if (hypervisor == null) {
            return;
        }
        try {
            for (String name : defined) {
                if (!hypervisor.list().contains(name)) {
                    continue;
                }
                if (hypervisor.state(name) != QubeState.HALTED) {
                    try {
                        hypervisor.kill(name).get(operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof HypervisorException.InvalidState)) {
                            throw e; // halted on its own in the meantime is fine, anything else is not
                        }
                    }
                }
                await().atMost(operationTimeout()).until(() -> hypervisor.state(name) == QubeState.HALTED);
                hypervisor.undefine(name).get(operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            throw new AssertionError("could not clean up the test's qubes " + defined, e);
        } finally {
            hypervisor.close();
        }
    }

    // ------------------------------------------------------------------ definition

    @Test
    void definedQubeIsHaltedAndListed() {
        String name = define("def");
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        assertTrue(hypervisor.list().contains(name), () -> hypervisor.list() + " lacks " + name);
        assertEquals(name, hypervisor.spec(name).name());
    }

    @Test
    void definingTheSameNameTwiceFails() {
        String name = define("twice");
        QubeSpec again = specFor(name, uniqueDomainId()).build();
        assertFailsWith(HypervisorException.AlreadyDefined.class, () -> hypervisor.define(again));
        assertEquals(QubeState.HALTED, hypervisor.state(name));
    }

    @Test
    void definingAUsedDomainIdFails() {
        Assumptions.assumeTrue(enforcesUniqueDomainIds(), "backend assigns domain ids itself");
        String first = define("dom");
        int usedId = hypervisor.spec(first).domainId();
        QubeSpec clash = specFor(uniqueName("clash"), usedId).build();
        assertFailsWith(HypervisorException.AlreadyDefined.class, () -> hypervisor.define(clash));
        assertFalse(hypervisor.list().contains(clash.name()));
    }

    @Test
    void unknownQubeIsReportedByEveryOperation() {
        String ghost = uniqueName("ghost");
        Class<HypervisorException.NoSuchQube> noSuch = HypervisorException.NoSuchQube.class;
        assertThrows(noSuch, () -> hypervisor.state(ghost));
        assertThrows(noSuch, () -> hypervisor.spec(ghost));
        assertThrows(noSuch, () -> hypervisor.memory(ghost));
        assertFailsWith(noSuch, () -> hypervisor.start(ghost));
        assertFailsWith(noSuch, () -> hypervisor.pause(ghost));
        assertFailsWith(noSuch, () -> hypervisor.unpause(ghost));
        assertFailsWith(noSuch, () -> hypervisor.shutdown(ghost, Duration.ofSeconds(1)));
        assertFailsWith(noSuch, () -> hypervisor.kill(ghost));
        assertFailsWith(noSuch, () -> hypervisor.undefine(ghost));
        assertFailsWith(noSuch, () -> hypervisor.setMemoryTarget(ghost, 64 * MIB));
    }

    // ------------------------------------------------------------------ life-cycle

    @Test
    void startRunsTheQubeAndReportsIt() {
        String name = define("start");
        complete(hypervisor.start(name));
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED);
    }

    @Test
    void startingARunningQubeFails() {
        String name = started("start2");
        HypervisorException.InvalidState error =
                assertFailsWith(HypervisorException.InvalidState.class, () -> hypervisor.start(name));
        assertEquals(QubeState.RUNNING, error.state());
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
    }

    @Test
    void pauseAndUnpause() {
        String name = started("pause");
        complete(hypervisor.pause(name));
        assertEquals(QubeState.PAUSED, hypervisor.state(name));
        complete(hypervisor.unpause(name));
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED);
    }

    @Test
    void pausingAHaltedQubeFails() {
        String name = define("pausehalt");
        HypervisorException.InvalidState error =
                assertFailsWith(HypervisorException.InvalidState.class, () -> hypervisor.pause(name));
        assertEquals(QubeState.HALTED, error.state());
        assertEquals(QubeState.HALTED, hypervisor.state(name));
    }

    @Test
    void unpausingARunningQubeFails() {
        String name = started("unpauserun");
        assertFailsWith(HypervisorException.InvalidState.class, () -> hypervisor.unpause(name));
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
    }

    @Test
    void shutdownHaltsTheQube() {
        String name = started("shutdown");
        complete(hypervisor.shutdown(name, Duration.ofSeconds(10)));
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.HALTED);
    }

    @Test
    void killHaltsARunningQube() {
        String name = started("kill");
        complete(hypervisor.kill(name));
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.HALTED);
    }

    @Test
    void killHaltsAPausedQube() {
        String name = started("killpaused");
        complete(hypervisor.pause(name));
        complete(hypervisor.kill(name));
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.PAUSED, Kind.HALTED);
    }

    @Test
    void killingAHaltedQubeFails() {
        String name = define("killhalt");
        assertFailsWith(HypervisorException.InvalidState.class, () -> hypervisor.kill(name));
    }

    @Test
    void haltedQubeStartsAgain() {
        String name = started("restart");
        complete(hypervisor.kill(name));
        complete(hypervisor.start(name));
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.HALTED, Kind.STARTED);
    }

    @Test
    void undefiningARunningQubeFailsAndAHaltedOneWorks() {
        String name = started("undef");
        assertFailsWith(HypervisorException.InvalidState.class, () -> hypervisor.undefine(name));
        assertTrue(hypervisor.list().contains(name));
        complete(hypervisor.kill(name));
        complete(hypervisor.undefine(name));
        assertFalse(hypervisor.list().contains(name));
        assertThrows(HypervisorException.NoSuchQube.class, () -> hypervisor.state(name));
    }

    @Test
    void operationsSubmittedTogetherRunOneAfterTheOther() {
        String name = define("serial");
        CompletableFuture<Void> start = hypervisor.start(name);
        CompletableFuture<Void> pause = hypervisor.pause(name);
        CompletableFuture<Void> unpause = hypervisor.unpause(name);
        CompletableFuture<Void> shutdown = hypervisor.shutdown(name, Duration.ofSeconds(10));
        complete(start);
        complete(pause);
        complete(unpause);
        complete(shutdown);
        assertEquals(QubeState.HALTED, hypervisor.state(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED, Kind.HALTED);
    }

    @Test
    void severalQubesStartAtOnce() {
        List<String> names = List.of(define("many1"), define("many2"), define("many3"));
        List<CompletableFuture<Void>> starts = names.stream().map(hypervisor::start).toList();
        starts.forEach(this::complete);
        for (String name : names) {
            assertEquals(QubeState.RUNNING, hypervisor.state(name));
            events.awaitKinds(name, operationTimeout(), Kind.STARTED);
        }
    }

    // ------------------------------------------------------------------ events

    @Test
    void eventsOfAFullLifeCycleArriveInOrderOnOneThread() {
        String name = started("order");
        complete(hypervisor.pause(name));
        complete(hypervisor.unpause(name));
        complete(hypervisor.shutdown(name, Duration.ofSeconds(10)));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED, Kind.HALTED);
        assertEquals(1, events.threads().size(), () -> "events arrived on " + events.threads());
        var stamps = events.of(name).stream().map(e -> e.at()).toList();
        for (int i = 1; i < stamps.size(); i++) {
            assertFalse(stamps.get(i).isBefore(stamps.get(i - 1)), () -> "time went back: " + stamps);
        }
    }

    @Test
    void closedSubscriptionGetsNoMoreEvents() throws Exception {
        EventRecorder late = new EventRecorder();
        AutoCloseable subscription = hypervisor.subscribe(late);
        String name = started("unsub");
        late.awaitKinds(name, operationTimeout(), Kind.STARTED);
        subscription.close();
        complete(hypervisor.kill(name));
        events.awaitKinds(name, operationTimeout(), Kind.STARTED, Kind.HALTED);
        assertEquals(List.of(Kind.STARTED), late.kinds(name));
    }

    // ------------------------------------------------------------------ memory

    @Test
    void memoryOfARunningQubeIsAccounted() {
        String name = started("mem");
        QubeSpec spec = hypervisor.spec(name);
        MemoryUsage usage = hypervisor.memory(name);
        assertEquals(spec.maxMemoryMiB() * MIB, usage.maxBytes());
        assertEquals(spec.memoryMiB() * MIB, usage.targetBytes());
        assertTrue(usage.currentBytes() >= 0 && usage.currentBytes() <= usage.maxBytes(), usage::toString);
        HostMemory host = hypervisor.hostMemory();
        assertTrue(host.totalBytes() > 0, host::toString);
        assertTrue(host.freeBytes() >= 0 && host.freeBytes() <= host.totalBytes(), host::toString);
    }

    @Test
    void memoryTargetIsRecorded() {
        String name = started("target");
        long target = hypervisor.spec(name).memoryMiB() * MIB / 2;
        complete(hypervisor.setMemoryTarget(name, target));
        assertEquals(target, hypervisor.memory(name).targetBytes());
        assertEquals(QubeState.RUNNING, hypervisor.state(name));
    }

    // ------------------------------------------------------------------ helpers for subclasses

    /** Defines a fresh qube from {@link #specFor} and returns its name. */
    protected String define(String hint) {
        String name = uniqueName(hint);
        QubeSpec spec = specFor(name, uniqueDomainId()).build();
        complete(hypervisor.define(spec));
        defined.add(name);
        return name;
    }

    /** Defines and starts a fresh qube and returns its name. */
    protected String started(String hint) {
        String name = define(hint);
        complete(hypervisor.start(name));
        return name;
    }

    /** Waits for {@code future}; its failure is rethrown as is. */
    protected <T> T complete(CompletableFuture<T> future) {
        try {
            return future.get(operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("operation failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("operation did not complete within " + operationTimeout(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Asserts that {@code call} fails with {@code type}, thrown at once or through its future. */
    protected <E extends Throwable> E assertFailsWith(Class<E> type, Supplier<? extends CompletableFuture<?>> call) {
        CompletableFuture<?> future;
        try {
            future = call.get();
        } catch (CompletionException e) {
            return assertInstanceOf(type, e.getCause());
        } catch (RuntimeException e) {
            return assertInstanceOf(type, e);
        }
        try {
            Object result = future.get(operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected " + type.getSimpleName() + " but the operation succeeded with " + result);
        } catch (ExecutionException e) {
            return assertInstanceOf(type, e.getCause(), () -> "wrong error: " + e.getCause());
        } catch (TimeoutException e) {
            return fail("expected " + type.getSimpleName() + " but the operation did not finish within "
                    + operationTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail(e);
        }
    }

}
