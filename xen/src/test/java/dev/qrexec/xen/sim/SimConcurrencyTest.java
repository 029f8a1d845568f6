package dev.qrexec.xen.sim;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.EventRecorder;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Many threads drive the real-time sim at random, under memory pressure. Whatever the interleaving:
 * every future completes, every failure is a typed HypervisorException, each qube's events form a
 * valid life-cycle, and once everything is killed the host has all its memory back.
 */
class SimConcurrencyTest {

    private static final long MIB = 1L << 20;
    private static final int QUBES = 10;
    private static final Map<Kind, Map<String, String>> LIFE = Map.of(
            Kind.STARTED, Map.of("off", "on"),
            Kind.PAUSED, Map.of("on", "paused"),
            Kind.UNPAUSED, Map.of("paused", "on"),
            Kind.HALTED, Map.of("on", "off", "paused", "off"),
            Kind.DIED, Map.of("on", "off", "paused", "off"));

    @Test
    void randomOperationsFromManyThreadsKeepEveryInvariant() throws Exception {
        EventRecorder events = new EventRecorder();
        ConcurrentLinkedQueue<CompletableFuture<Void>> futures = new ConcurrentLinkedQueue<>();
        try (SimHypervisor sim = SimHypervisor.builder().hostMemoryMiB(4096)
                .allLatencies(Duration.ofMillis(1)).memoryStep(Duration.ofMillis(5)).build()) {
            sim.subscribe(events);
            for (int i = 0; i < QUBES; i++) {
                sim.define(QubeSpec.builder("q" + i, 100 + i).memoryMiB(512).maxMemoryMiB(1024).build())
                        .get(5, TimeUnit.SECONDS);
            }
            ExecutorService threads = Executors.newFixedThreadPool(4);
            for (int t = 0; t < 4; t++) {
                Random random = new Random(t);
                threads.execute(() -> {
                    for (int n = 0; n < 400; n++) {
                        futures.add(randomOperation(sim, "q" + random.nextInt(QUBES), random));
                    }
                });
            }
            threads.shutdown();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS));

            List<Throwable> unexpected = new ArrayList<>();
            for (CompletableFuture<Void> future : futures) {
                try {
                    future.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof HypervisorException)) {
                        unexpected.add(e.getCause());
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    fail("a future never completed; backend: " + sim);
                }
            }
            assertEquals(List.of(), unexpected);

            for (String qube : sim.list()) {
                CompletableFuture<Void> kill = sim.kill(qube);
                kill.exceptionally(e -> null).get(30, TimeUnit.SECONDS); // halted already is fine
            }
            for (String qube : sim.list()) {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> sim.state(qube) == QubeState.HALTED);
                assertEquals(0, sim.memory(qube).currentBytes(), qube);
                assertValidLifeCycle(qube, events.of(qube));
            }
            assertEquals(sim.hostMemory().totalBytes(), sim.hostMemory().freeBytes(), sim.toString());
        }
    }

    private static CompletableFuture<Void> randomOperation(SimHypervisor sim, String qube, Random random) {
        return switch (random.nextInt(8)) {
            case 0, 1 -> sim.start(qube);
            case 2 -> sim.pause(qube);
            case 3 -> sim.unpause(qube);
            case 4 -> sim.kill(qube);
            case 5 -> sim.shutdown(qube, Duration.ofMillis(random.nextInt(3)));
            case 6 -> sim.setMemoryTarget(qube, (256 + random.nextInt(768)) * MIB);
            default -> sim.crash(qube, "chaos");
        };
    }

    private static void assertValidLifeCycle(String qube, List<LifecycleEvent> events) {
        String state = "off";
        for (LifecycleEvent event : events) {
            String next = LIFE.get(event.kind()).get(state);
            if (next == null) {
                fail(qube + ": " + event.kind() + " while " + state + " in " + events);
            }
            state = next;
        }
        assertEquals("off", state, qube + " ends halted: " + events);
    }
}
