package dev.qrexec.dispvm.preload;

import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pre-pause ballooning on the sim backend (spec 4.2): stop conditions, one at a time, cancellation. */
class MemoryBalancerTest {

    private static final long MIB = 1L << 20;
    private SimHypervisor sim;
    private ScheduledExecutorService scheduler;

    @BeforeEach
    void setUp() {
        sim = SimHypervisor.builder().balloonRate(4000 * MIB).memoryStep(Duration.ofMillis(10)).build();
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
        sim.close();
    }

    private void running(String name, int id) {
        sim.define(QubeSpec.builder(name, id).memoryMiB(2000).maxMemoryMiB(4000).build()).join();
        sim.start(name).join();
    }

    private MemoryBalancer balancer(MemoryReleaser r, Duration timeout) {
        return new MemoryBalancer(sim, r, new MemoryBalancer.Limits(Duration.ofMillis(10), Duration.ofMillis(300),
                100 * MIB, 1.1, 200 * MIB, 1.3, timeout, 4), scheduler);
    }

    @Test
    void convergesToThePreferredMemory() {
        running("a", 1);
        var o = balancer(MemoryReleaser.fixed(300 * MIB), Duration.ofSeconds(5)).balloon("a", new CompletableFuture<>()).join();
        assertEquals(MemoryBalancer.Outcome.CONVERGED, o);
        assertEquals(390 * MIB, sim.memory("a").targetBytes(), "used × 1.3");
        assertTrue(sim.memory("a").currentBytes() <= 390 * MIB * 1.1);
    }

    @Test
    void neverAsksForLessThanTheFloor() {
        running("a", 1);
        balancer(MemoryReleaser.fixed(10 * MIB), Duration.ofSeconds(5)).balloon("a", new CompletableFuture<>()).join();
        assertEquals(200 * MIB, sim.memory("a").targetBytes());
    }

    @Test
    void aQubeThatFreesMemorySlowlyIsGivenUpOnAfterTheSlowWindow() {
        running("a", 1);
        sim.faults().balloonRate("a", 20 * MIB);
        long t0 = System.nanoTime();
        var o = balancer(MemoryReleaser.fixed(300 * MIB), Duration.ofSeconds(5)).balloon("a", new CompletableFuture<>()).join();
        assertEquals(MemoryBalancer.Outcome.SLOW_TRANSFER, o);
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).compareTo(Duration.ofSeconds(3)) < 0);
    }

    @Test
    void aQubeThatIgnoresTargetsIsGivenUpOn() {
        running("a", 1);
        sim.faults().ignoreMemoryTargets("a");
        var o = balancer(MemoryReleaser.fixed(300 * MIB), Duration.ofSeconds(5)).balloon("a", new CompletableFuture<>()).join();
        assertEquals(MemoryBalancer.Outcome.SLOW_TRANSFER, o);
    }

    @Test
    void requestsAreServedOneAtATimeAndASlowOneHoldsOthersOnlyUntilItsTimeout() {
        running("slow", 1);
        running("fast", 2);
        sim.faults().balloonRate("slow", 150 * MIB);   // fast enough not to be "slow", too slow to converge in time
        MemoryBalancer b = new MemoryBalancer(sim, MemoryReleaser.fixed(300 * MIB), new MemoryBalancer.Limits(
                Duration.ofMillis(10), Duration.ofMillis(300), 100 * MIB, 1.1, 200 * MIB, 1.3,
                Duration.ofMillis(600), 4), scheduler);
        var first = b.balloon("slow", new CompletableFuture<>());
        var second = b.balloon("fast", new CompletableFuture<>());
        assertEquals(1, b.queued());
        assertFalse(second.isDone());
        assertEquals(MemoryBalancer.Outcome.TIMED_OUT, first.join());
        assertEquals(MemoryBalancer.Outcome.CONVERGED, second.join());
    }

    @Test
    void aClaimCancelsTheBalloonAtOnce() {
        running("a", 1);
        sim.faults().ignoreMemoryTargets("a");
        CompletableFuture<Void> claim = new CompletableFuture<>();
        MemoryBalancer b = balancer(MemoryReleaser.fixed(300 * MIB), Duration.ofSeconds(30));
        var o = b.balloon("a", claim);
        claim.complete(null);
        assertEquals(MemoryBalancer.Outcome.CANCELLED, o.join());
        // The next request is not held back by the cancelled one.
        running("b", 2);
        var next = b.balloon("b", new CompletableFuture<>());
        await().atMost(Duration.ofSeconds(5)).until(next::isDone);
        assertEquals(MemoryBalancer.Outcome.CONVERGED, next.join());
    }

    @Test
    void noReportNoBalloonAndAFullQueueRefuses() {
        running("a", 1);
        assertEquals(MemoryBalancer.Outcome.NOT_REPORTED,
                balancer(MemoryReleaser.none(), Duration.ofSeconds(5)).balloon("a", new CompletableFuture<>()).join());
        sim.faults().ignoreMemoryTargets("a");
        MemoryBalancer b = balancer(MemoryReleaser.fixed(300 * MIB), Duration.ofSeconds(30));
        CompletableFuture<Void> never = new CompletableFuture<>();
        b.balloon("a", never);
        for (int i = 0; i < 4; i++) {
            b.balloon("a", never);
        }
        assertEquals(MemoryBalancer.Outcome.QUEUE_FULL, b.balloon("a", never).join());
        never.complete(null);
    }
}
