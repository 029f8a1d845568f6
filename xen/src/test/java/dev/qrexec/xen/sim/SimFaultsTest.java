package dev.qrexec.xen.sim;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeState;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.qrexec.xen.sim.SimFixture.MIB;
import static dev.qrexec.xen.sim.SimFixture.done;
import static dev.qrexec.xen.sim.SimFixture.failed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Injected faults, on a manual clock. */
class SimFaultsTest {

    private final SimFixture f = new SimFixture(b -> b
            .bootLatency(Duration.ofMillis(1000)).killLatency(Duration.ofMillis(100)).hostMemoryMiB(2000));

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void theNthStartFailsAfterItsBootLatencyAndLeavesNothingBehind() {
        f.define("a", 400, 800);
        f.define("b", 400, 800);
        f.sim.faults().failStart(2);
        CompletableFuture<Void> first = f.sim.start("a");
        CompletableFuture<Void> second = f.sim.start("b");
        assertEquals(800 * MIB, f.sim.hostMemory().totalBytes() - f.sim.hostMemory().freeBytes());
        f.advance(1000);
        done(first);
        HypervisorException.OperationFailed error = failed(HypervisorException.OperationFailed.class, second);
        assertTrue(error.getMessage().contains("start #2"), error.getMessage());
        assertEquals(QubeState.HALTED, f.sim.state("b"));
        assertEquals(400 * MIB, f.sim.hostMemory().totalBytes() - f.sim.hostMemory().freeBytes());
        assertEquals(List.of(), f.events.kinds("b"), "a failed start is not a life-cycle event");
        f.sim.start("b");
        f.advance(1000);
        assertEquals(QubeState.RUNNING, f.sim.state("b"), "the fault was used up");
    }

    @Test
    void failNextStartHitsOnlyThatQube() {
        f.define("a", 100, 800);
        f.define("b", 100, 800);
        f.sim.faults().failNextStart("b");
        CompletableFuture<Void> a = f.sim.start("a");
        CompletableFuture<Void> b = f.sim.start("b");
        f.advance(1000);
        done(a);
        failed(HypervisorException.OperationFailed.class, b);
    }

    @Test
    void aHungStartStaysStartingUntilKilled() {
        f.define("a", 400, 800);
        f.sim.faults().hangNextStart("a");
        CompletableFuture<Void> start = f.sim.start("a");
        f.advance(60_000);
        assertFalse(start.isDone());
        assertEquals(QubeState.STARTING, f.sim.state("a"));
        CompletableFuture<Void> kill = f.sim.kill("a");
        failed(HypervisorException.OperationFailed.class, start);
        f.advance(100);
        done(kill);
        assertEquals(QubeState.HALTED, f.sim.state("a"));
        assertEquals(f.sim.hostMemory().totalBytes(), f.sim.hostMemory().freeBytes());
    }

    @Test
    void aQubeCanDieWhileRunningThenItIsCleanedUp() {
        f.define("a", 400, 800);
        f.sim.faults().dieAfterStart("a", Duration.ofMillis(5000), "out of memory");
        f.sim.start("a");
        f.advance(1000 + 4999);
        assertEquals(QubeState.RUNNING, f.sim.state("a"));
        f.advance(1);
        assertEquals(QubeState.CRASHED, f.sim.state("a"));
        LifecycleEvent died = f.events.of("a").get(1);
        assertEquals(Kind.DIED, died.kind());
        assertEquals("out of memory", died.reason());
        f.advance(100);
        assertEquals(QubeState.HALTED, f.sim.state("a"));
        assertEquals(List.of(Kind.STARTED, Kind.DIED), f.events.kinds("a"), "clean-up is not a second event");
        assertEquals(f.sim.hostMemory().totalBytes(), f.sim.hostMemory().freeBytes());
    }

    @Test
    void crashFailsTheOperationInFlight() {
        try (SimFixture slow = new SimFixture(b -> b.pauseLatency(Duration.ofSeconds(1)))) {
            slow.define("a", 400, 800);
            slow.sim.start("a");
            CompletableFuture<Void> pause = slow.sim.pause("a");
            done(slow.sim.crash("a", "segfault"));
            HypervisorException.OperationFailed error = failed(HypervisorException.OperationFailed.class, pause);
            assertTrue(error.getMessage().contains("died: segfault"), error.getMessage());
            assertEquals(QubeState.HALTED, slow.sim.state("a"), "zero kill latency: cleaned up at once");
            assertEquals(List.of(Kind.STARTED, Kind.DIED), slow.events.kinds("a"));
        }
    }

    @Test
    void dyingWhileStartingIsReportedByTheStartFutureOnly() {
        f.define("a", 400, 800);
        CompletableFuture<Void> start = f.sim.start("a");
        f.advance(500);
        done(f.sim.crash("a", "bad kernel"));
        HypervisorException.OperationFailed error = failed(HypervisorException.OperationFailed.class, start);
        assertEquals("start of 'a' did not complete: the qube died: bad kernel", error.getMessage());
        f.advance(100);
        assertEquals(QubeState.HALTED, f.sim.state("a"));
        assertEquals(List.of(), f.events.kinds("a"));
    }

    @Test
    void crashingAHaltedQubeIsRefused() {
        f.define("a", 400, 800);
        failed(HypervisorException.InvalidState.class, f.sim.crash("a", "nothing to crash"));
    }

    @Test
    void aQubeThatIgnoresShutdownIsKilledAtTheTimeout() {
        f.define("a", 400, 800);
        f.sim.faults().ignoreShutdown("a");
        f.sim.start("a");
        f.advance(1000);
        CompletableFuture<Void> shutdown = f.sim.shutdown("a", Duration.ofSeconds(3));
        f.advance(3000 + 99);
        assertFalse(shutdown.isDone());
        f.advance(1);
        done(shutdown);
        assertTrue(f.events.of("a").get(1).reason().startsWith("killed"), f.events.of("a").toString());
    }

    @Test
    void aPerQubeBootLatencyOverridesTheBackendOne() {
        f.define("slow", 100, 800);
        f.define("fast", 100, 800);
        f.sim.faults().bootLatency("slow", Duration.ofSeconds(30));
        CompletableFuture<Void> slow = f.sim.start("slow");
        CompletableFuture<Void> fast = f.sim.start("fast");
        f.advance(1000);
        done(fast);
        assertFalse(slow.isDone());
        f.advance(29_000);
        done(slow);
    }

    @Test
    void faultSettingsAreValidated() {
        SimFaults faults = f.sim.faults();
        assertEquals("nth must be at least 1 (the next start), was 0",
                assertThrows(IllegalArgumentException.class, () -> faults.failStart(0)).getMessage());
        assertEquals("bytesPerSecond must be positive, was -1",
                assertThrows(IllegalArgumentException.class, () -> faults.balloonRate("a", -1)).getMessage());
        assertEquals("latency must not be negative, was PT-1S",
                assertThrows(IllegalArgumentException.class,
                        () -> faults.bootLatency("a", Duration.ofSeconds(-1))).getMessage());
    }

    @Test
    void clearRemovesEveryFault() {
        f.define("a", 400, 800);
        f.sim.faults().failNextStart("a").ignoreShutdown("a").failStart(1);
        f.sim.faults().clear();
        f.sim.start("a");
        f.advance(1000);
        assertEquals(QubeState.RUNNING, f.sim.state("a"));
    }
}
