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
    void requestsAreServedOneAtATimeAndASlowOneHoldsOthersOnlyUntilItsTimeoutOnTheManualClock() {
        try (Manual m = new Manual(4000)) {
            m.sim.define(QubeSpec.builder("b", 2).memoryMiB(2000).maxMemoryMiB(4000).build()).join();
            m.sim.start("b").join();
            // Fast enough not to be "slow" (150 MiB/s), too slow to converge within the 600 ms timeout.
            m.sim.faults().balloonRate("a", 150 * MIB);
            MemoryBalancer b = m.balancer(300, 300, Duration.ofMillis(600));
            var first = b.balloon("a", new CompletableFuture<>());
            var second = b.balloon("b", new CompletableFuture<>());
            assertEquals(1, b.queued());
            m.advanceMillis(500);
            assertFalse(second.isDone(), "waits for the one being served");
            assertEquals(2000 * MIB, m.sim.memory("b").currentBytes(), "not touched yet");
            m.advanceMillis(100);
            assertEquals(MemoryBalancer.Outcome.TIMED_OUT, first.getNow(null));
            // b: 2000 MiB down to 390 × 1.1 at 4000 MiB/s takes about 0.4 s once it is served.
            m.advanceMillis(500);
            assertEquals(MemoryBalancer.Outcome.CONVERGED, second.getNow(null));
            assertEquals(0, b.queued());
        }
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

    /** A sim and a balancer on one manual clock: time moves only when the test advances it. */
    private static final class Manual implements AutoCloseable {
        final dev.qrexec.xen.sim.ManualScheduler clock = new dev.qrexec.xen.sim.ManualScheduler();
        final SimHypervisor sim;
        final java.util.concurrent.atomic.AtomicInteger usageCalls = new java.util.concurrent.atomic.AtomicInteger();

        Manual(long balloonRateMiB) {
            sim = SimHypervisor.builder().scheduler(clock).allLatencies(Duration.ZERO).hostMemoryMiB(16384)
                    .balloonRate(balloonRateMiB * MIB).memoryStep(Duration.ofMillis(10)).build();
            sim.define(QubeSpec.builder("a", 1).memoryMiB(2000).maxMemoryMiB(4000).build()).join();
            sim.start("a").join();
        }

        MemoryBalancer balancer(long releasedMiB, long laterMiB) {
            return balancer(releasedMiB, laterMiB, Duration.ofSeconds(20));
        }

        MemoryBalancer balancer(long releasedMiB, long laterMiB, Duration timeout) {
            MemoryReleaser r = new MemoryReleaser() {
                @Override
                public CompletableFuture<java.util.OptionalLong> release(String qube) {
                    return CompletableFuture.completedFuture(java.util.OptionalLong.of(releasedMiB * MIB));
                }

                @Override
                public CompletableFuture<java.util.OptionalLong> usage(String qube) {
                    usageCalls.incrementAndGet();
                    return CompletableFuture.completedFuture(java.util.OptionalLong.of(laterMiB * MIB));
                }
            };
            MemoryBalancer.Clock c = new MemoryBalancer.Clock() {
                @Override
                public long nanoTime() {
                    return clock.elapsed().toNanos();
                }

                @Override
                public void schedule(Duration delay, Runnable task) {
                    clock.schedule(delay, task);
                }
            };
            return new MemoryBalancer(sim, r, new MemoryBalancer.Limits(Duration.ofMillis(100), Duration.ofSeconds(3),
                    100 * MIB, 1.1, 200 * MIB, 1.3, timeout, 4), c);
        }

        void advanceMillis(long ms) {
            clock.advance(Duration.ofMillis(ms));
        }

        @Override
        public void close() {
            sim.close();
            clock.close();
        }
    }

    @Test
    void theTargetIsRecomputedFromAFreshReportEveryTenPollsOnTheManualClock() {
        try (Manual m = new Manual(200)) {
            // The guest first reports 1000 MiB used, later 300 MiB (it freed its caches meanwhile).
            var o = m.balancer(1000, 300).balloon("a", new CompletableFuture<>());
            assertEquals(1300 * MIB, m.sim.memory("a").targetBytes(), "used × 1.3");
            m.advanceMillis(950);
            assertEquals(1300 * MIB, m.sim.memory("a").targetBytes(), "nine polls: not yet re-evaluated");
            assertEquals(0, m.usageCalls.get());
            m.advanceMillis(50);
            assertEquals(1, m.usageCalls.get(), "the 10th poll re-reads the usage");
            assertEquals(390 * MIB, m.sim.memory("a").targetBytes());
            m.advanceMillis(1000);
            assertEquals(2, m.usageCalls.get());
            assertFalse(o.isDone(), "releasing 200 MiB/s is not slow");
            // 2000 MiB down to 390 × 1.1 at 200 MiB/s: converged within 8 s of the start.
            m.advanceMillis(6000);
            assertEquals(MemoryBalancer.Outcome.CONVERGED, o.getNow(null));
            assertTrue(m.sim.memory("a").currentBytes() <= 390 * MIB * 1.1);
            // (2000 - 429) MiB at 200 MiB/s is 7.86 s: the poll at 7.9 s sees it; reports at 1 s .. 7 s.
            assertEquals(7, m.usageCalls.get(), "one report per 10 polls");
        }
    }

    @Test
    void aSlowQubeIsGivenUpOnAtThreeSecondsExactlyOnTheManualClock() {
        try (Manual m = new Manual(50)) {
            var o = m.balancer(300, 300).balloon("a", new CompletableFuture<>());
            m.advanceMillis(2900);
            assertFalse(o.isDone(), "the slow rule applies only after 3 s");
            m.advanceMillis(100);
            assertEquals(MemoryBalancer.Outcome.SLOW_TRANSFER, o.getNow(null));
            assertEquals(3, m.usageCalls.get(), "re-evaluated at 1, 2 and 3 s (the 30th poll re-reads, then gives up)");
        }
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
