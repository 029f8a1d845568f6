package dev.qrexec.xen.sim;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.MemoryUsage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.qrexec.xen.sim.SimFixture.MIB;
import static dev.qrexec.xen.sim.SimFixture.done;
import static dev.qrexec.xen.sim.SimFixture.failed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Host memory accounting and balloon movement, on a manual clock: 100 MiB/s in 100 ms steps. */
class SimMemoryTest {

    private final SimFixture f = new SimFixture(b -> b
            .hostMemoryMiB(1000).balloonRate(100 * MIB).memoryStep(Duration.ofMillis(100)));

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void startTakesTheInitialMemoryAndHaltGivesItBack() {
        f.define("a", 300, 600);
        done(f.sim.start("a"));
        assertEquals(new MemoryUsage(300 * MIB, 300 * MIB, 600 * MIB), f.sim.memory("a"));
        assertEquals(700 * MIB, f.sim.hostMemory().freeBytes());
        done(f.sim.kill("a"));
        assertEquals(new MemoryUsage(0, 300 * MIB, 600 * MIB), f.sim.memory("a"));
        assertEquals(1000 * MIB, f.sim.hostMemory().freeBytes());
    }

    @Test
    void startFailsWhenTheHostCannotHoldTheQube() {
        f.define("a", 600, 600);
        f.define("b", 500, 600);
        done(f.sim.start("a"));
        HypervisorException.InsufficientMemory error =
                failed(HypervisorException.InsufficientMemory.class, f.sim.start("b"));
        assertEquals("not enough memory: 500 MiB asked, 400 free", error.getMessage());
        assertEquals(dev.qrexec.xen.QubeState.HALTED, f.sim.state("b"));
    }

    @Test
    void memoryMovesDownTowardTheTargetAtTheBalloonRate() {
        f.define("a", 500, 800);
        done(f.sim.start("a"));
        done(f.sim.setMemoryTarget("a", 200 * MIB));
        assertEquals(500 * MIB, f.sim.memory("a").currentBytes(), "applied, not reached");
        f.advance(100);
        assertEquals(490 * MIB, f.sim.memory("a").currentBytes());
        f.advance(900);
        assertEquals(400 * MIB, f.sim.memory("a").currentBytes());
        assertEquals(600 * MIB, f.sim.hostMemory().freeBytes());
        f.advance(2000);
        assertEquals(200 * MIB, f.sim.memory("a").currentBytes());
        f.advance(1000);
        assertEquals(200 * MIB, f.sim.memory("a").currentBytes(), "stops at the target");
        assertEquals(0, f.clock.pendingTasks(), "no ticking once nothing moves");
    }

    @Test
    void aSlowQubeBalloonsAtItsOwnRate() {
        f.define("slow", 500, 800);
        f.define("fast", 100, 800);
        f.sim.faults().balloonRate("slow", 10 * MIB);
        done(f.sim.start("slow"));
        done(f.sim.start("fast"));
        done(f.sim.setMemoryTarget("slow", 200 * MIB));
        done(f.sim.setMemoryTarget("fast", 50 * MIB));
        f.advance(1000);
        assertEquals(490 * MIB, f.sim.memory("slow").currentBytes());
        assertEquals(50 * MIB, f.sim.memory("fast").currentBytes());
    }

    @Test
    void aQubeThatIgnoresTargetsKeepsItsMemory() {
        f.define("a", 500, 800);
        f.sim.faults().ignoreMemoryTargets("a");
        done(f.sim.start("a"));
        done(f.sim.setMemoryTarget("a", 200 * MIB));
        f.advance(10_000);
        assertEquals(new MemoryUsage(500 * MIB, 200 * MIB, 800 * MIB), f.sim.memory("a"));
    }

    @Test
    void aPausedQubeCannotGiveMemoryBack() {
        f.define("a", 500, 800);
        done(f.sim.start("a"));
        done(f.sim.pause("a"));
        done(f.sim.setMemoryTarget("a", 200 * MIB));
        f.advance(5000);
        assertEquals(500 * MIB, f.sim.memory("a").currentBytes());
        done(f.sim.unpause("a"));
        f.advance(1000);
        assertEquals(400 * MIB, f.sim.memory("a").currentBytes());
    }

    @Test
    void growingIsLimitedByFreeHostMemoryAndResumesWhenMemoryIsFreed() {
        f.define("a", 500, 1000);
        f.define("b", 450, 450);
        done(f.sim.start("a"));
        done(f.sim.start("b"));
        done(f.sim.setMemoryTarget("a", 1000 * MIB));
        f.advance(10_000);
        assertEquals(550 * MIB, f.sim.memory("a").currentBytes());
        assertEquals(0, f.sim.hostMemory().freeBytes());
        done(f.sim.kill("b"));
        f.advance(10_000);
        assertEquals(1000 * MIB, f.sim.memory("a").currentBytes());
    }

    @Test
    void theExampleInTheJavadocHolds() {
        ManualScheduler clock = new ManualScheduler();
        try (SimHypervisor sim = SimHypervisor.builder().scheduler(clock)
                .bootLatency(Duration.ofSeconds(2)).hostMemoryMiB(4000).build()) {
            done(sim.define(dev.qrexec.xen.QubeSpec.builder("disp1234", 12).memoryMiB(400).maxMemoryMiB(4000).build()));
            var start = sim.start("disp1234");
            assertEquals(3600 * MIB, sim.hostMemory().freeBytes());
            clock.advance(Duration.ofSeconds(2));
            done(start);
            sim.faults().balloonRate("disp1234", 20L << 20);
            done(sim.setMemoryTarget("disp1234", 200L << 20));
            clock.advance(Duration.ofSeconds(3));
            assertEquals(340 * MIB, sim.memory("disp1234").currentBytes());
        }
    }

    @Test
    void targetsAreChecked() {
        f.define("a", 500, 800);
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> f.sim.setMemoryTarget("a", 801 * MIB));
        assertEquals("memory target of 'a' must be in 1.." + 800 * MIB + " bytes (its maximum), was " + 801 * MIB,
                tooBig.getMessage());
        assertThrows(IllegalArgumentException.class, () -> f.sim.setMemoryTarget("a", 0));
        failed(HypervisorException.InvalidState.class, f.sim.setMemoryTarget("a", 100 * MIB));
        assertThrows(HypervisorException.NoSuchQube.class, () -> f.sim.memory("nope"));
    }
}
