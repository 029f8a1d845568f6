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

import static dev.qrexec.xen.sim.SimFixture.done;
import static dev.qrexec.xen.sim.SimFixture.failed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Latencies and the order of operations, on a manual clock. */
class SimLatencyTest {

    private final SimFixture f = new SimFixture(b -> b
            .bootLatency(Duration.ofMillis(2000))
            .pauseLatency(Duration.ofMillis(50))
            .unpauseLatency(Duration.ofMillis(30))
            .shutdownLatency(Duration.ofMillis(700))
            .killLatency(Duration.ofMillis(100)));

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void startCompletesExactlyAfterTheBootLatency() {
        f.define("a", 400, 4000);
        CompletableFuture<Void> start = f.sim.start("a");
        assertEquals(QubeState.STARTING, f.sim.state("a"));
        f.advance(1999);
        assertFalse(start.isDone());
        f.advance(1);
        done(start);
        assertEquals(QubeState.RUNNING, f.sim.state("a"));
        LifecycleEvent started = f.events.of("a").get(0);
        assertEquals(Kind.STARTED, started.kind());
        assertEquals(ManualScheduler.DEFAULT_EPOCH.plusMillis(2000), started.at());
    }

    @Test
    void eachOperationTakesItsOwnLatency() {
        f.define("a", 400, 4000);
        f.sim.start("a");
        f.advance(2000);
        CompletableFuture<Void> pause = f.sim.pause("a");
        f.advance(49);
        assertFalse(pause.isDone());
        assertEquals(QubeState.RUNNING, f.sim.state("a"), "running until the pause has taken effect");
        f.advance(1);
        done(pause);
        CompletableFuture<Void> unpause = f.sim.unpause("a");
        f.advance(29);
        assertFalse(unpause.isDone());
        f.advance(1);
        done(unpause);
        CompletableFuture<Void> shutdown = f.sim.shutdown("a", Duration.ofSeconds(5));
        assertEquals(QubeState.STOPPING, f.sim.state("a"));
        f.advance(699);
        assertFalse(shutdown.isDone());
        f.advance(1);
        done(shutdown);
        assertEquals(List.of(Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED, Kind.HALTED), f.events.kinds("a"));
        assertEquals("shutdown", f.events.of("a").get(3).reason());
    }

    @Test
    void operationsSubmittedTogetherRunOneAfterTheOther() {
        f.define("a", 400, 4000);
        CompletableFuture<Void> start = f.sim.start("a");
        CompletableFuture<Void> pause = f.sim.pause("a");
        CompletableFuture<Void> unpause = f.sim.unpause("a");
        f.advance(2000);
        done(start);
        assertFalse(pause.isDone(), "pause waits for the start, then takes its own latency");
        f.advance(50);
        done(pause);
        f.advance(30);
        done(unpause);
        assertEquals(List.of(Kind.STARTED, Kind.PAUSED, Kind.UNPAUSED), f.events.kinds("a"));
    }

    @Test
    void aQueuedOperationIsCheckedAgainstTheStateItFinds() {
        f.define("a", 400, 4000);
        f.sim.start("a");
        CompletableFuture<Void> unpause = f.sim.unpause("a");
        f.advance(2000);
        HypervisorException.InvalidState error = failed(HypervisorException.InvalidState.class, unpause);
        assertEquals(QubeState.RUNNING, error.state());
    }

    @Test
    void tooManyQueuedOperationsFailAtOnce() {
        try (SimFixture small = new SimFixture(b -> b.bootLatency(Duration.ofSeconds(1)).maxQueuedOperations(1))) {
            small.define("a", 400, 4000);
            small.sim.start("a");
            CompletableFuture<Void> queued = small.sim.pause("a");
            CompletableFuture<Void> refused = small.sim.pause("a");
            HypervisorException.OperationFailed error = failed(HypervisorException.OperationFailed.class, refused);
            assertTrue(error.getMessage().contains("maxQueuedOperations 1"), error.getMessage());
            small.advance(1000);
            done(queued);
        }
    }

    @Test
    void killInterruptsAStartInFlight() {
        f.define("a", 400, 4000);
        CompletableFuture<Void> start = f.sim.start("a");
        f.advance(500);
        CompletableFuture<Void> kill = f.sim.kill("a");
        assertEquals(QubeState.STOPPING, f.sim.state("a"));
        HypervisorException.OperationFailed error = failed(HypervisorException.OperationFailed.class, start);
        assertTrue(error.getMessage().contains("killed"), error.getMessage());
        f.advance(100);
        done(kill);
        assertEquals(QubeState.HALTED, f.sim.state("a"));
        assertEquals(0, f.sim.memory("a").currentBytes());
        assertEquals(f.sim.hostMemory().totalBytes(), f.sim.hostMemory().freeBytes());
        assertEquals(List.of(), f.events.kinds("a"), "it never started, so it does not report halting");
    }

    @Test
    void killDuringShutdownCompletesBothWhenHalted() {
        f.define("a", 400, 4000);
        f.sim.start("a");
        f.advance(2000);
        CompletableFuture<Void> shutdown = f.sim.shutdown("a", Duration.ofSeconds(5));
        f.advance(10);
        CompletableFuture<Void> kill = f.sim.kill("a");
        f.advance(100);
        done(kill);
        done(shutdown);
        assertEquals(List.of(Kind.STARTED, Kind.HALTED), f.events.kinds("a"));
        assertEquals("killed", f.events.of("a").get(1).reason());
    }

    @Test
    void shutdownSlowerThanItsTimeoutKillsTheQube() {
        f.define("a", 400, 4000);
        f.sim.start("a");
        f.advance(2000);
        CompletableFuture<Void> shutdown = f.sim.shutdown("a", Duration.ofMillis(300));
        f.advance(300);
        assertEquals(QubeState.STOPPING, f.sim.state("a"));
        assertFalse(shutdown.isDone());
        f.advance(100);
        done(shutdown);
        LifecycleEvent halted = f.events.of("a").get(1);
        assertEquals(Kind.HALTED, halted.kind());
        assertTrue(halted.reason().contains("did not shut down within PT0.3S"), halted.reason());
    }

    @Test
    void undefineFailsOperationsQueuedBehindIt() {
        f.define("a", 400, 4000);
        CompletableFuture<Void> start = f.sim.start("a");
        CompletableFuture<Void> kill = f.sim.kill("a");
        CompletableFuture<Void> undefine = f.sim.undefine("a");
        CompletableFuture<Void> startAgain = f.sim.start("a");
        f.advance(100);
        failed(HypervisorException.OperationFailed.class, start);
        done(kill);
        done(undefine);
        failed(HypervisorException.NoSuchQube.class, startAgain);
        assertEquals(List.of(), f.sim.list());
    }

    @Test
    void closedBackendFailsWhatIsInFlightAndRefusesNewWork() {
        f.define("a", 400, 4000);
        CompletableFuture<Void> start = f.sim.start("a");
        f.sim.close();
        failed(HypervisorException.BackendUnavailable.class, start);
        failed(HypervisorException.BackendUnavailable.class, f.sim.kill("a"));
    }
}
