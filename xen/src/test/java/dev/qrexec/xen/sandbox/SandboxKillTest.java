package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.LifecycleEvent.Kind;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.contract.BackendAvailability;
import dev.qrexec.xen.contract.EventRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A kill does not queue behind a start or a shutdown in flight: it interrupts them. */
class SandboxKillTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private SandboxHypervisor hypervisor;
    private final EventRecorder events = new EventRecorder();

    @AfterEach
    void close() {
        SandboxFixture.closeKillingAll(hypervisor);
    }

    private void open(SandboxHypervisor.StartProbe probe) throws Exception {
        SandboxFixture.makeTraversable(dir);
        try {
            hypervisor = SandboxHypervisor.open(SandboxFixture.config(dir, SandboxFixture.uniqueInstance("kill")).build(),
                    probe);
        } catch (HypervisorException.BackendUnavailable e) {
            BackendAvailability.unavailable("sandbox", e.getMessage());
        }
        hypervisor.subscribe(events);
    }

    @Test
    void killInterruptsAShutdownWaitingForItsTimeout() throws Exception {
        open(SandboxHypervisor.StartProbe.NONE);
        QubeSpec spec = SandboxFixture.spec(dir, SandboxFixture.templateRoot(), "deaf", 41)
                .init(List.of("/bin/sh", "-c", "trap '' TERM; touch /rw/deaf; while :; do sleep 1; done")).build();
        hypervisor.define(spec).get();
        hypervisor.start("deaf").get();
        // the init runs before its shell reaches the trap: SIGTERM only once it ignores it
        await().atMost(WAIT).until(() -> Files.exists(spec.privateStorage().orElseThrow().resolve("deaf")));
        CompletableFuture<Void> shutdown = hypervisor.shutdown("deaf", Duration.ofMinutes(10));
        await().atMost(WAIT).until(() -> hypervisor.state("deaf") == QubeState.STOPPING);
        hypervisor.kill("deaf").get(WAIT.toSeconds(), TimeUnit.SECONDS);
        shutdown.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(QubeState.HALTED, hypervisor.state("deaf"));
        events.awaitKinds("deaf", WAIT, Kind.STARTED, Kind.HALTED);
        assertEquals("killed", events.of("deaf").get(1).reason());
        assertFalse(Files.exists(Path.of("/sys/fs/cgroup/freezer", "qrexec." + hypervisor.config().instance(), "deaf")));
    }

    @Test
    void killInterruptsAStartInFlight() throws Exception {
        CountDownLatch killed = new CountDownLatch(1);
        CountDownLatch atCgroup = new CountDownLatch(1);
        open((qube, step) -> {
            if (step.equals("cgroup-created")) {
                atCgroup.countDown();
                try {
                    killed.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        QubeSpec spec = SandboxFixture.spec(dir, SandboxFixture.templateRoot(), "slow", 42).build();
        hypervisor.define(spec).get();
        CompletableFuture<Void> start = hypervisor.start("slow");
        assertTrue(atCgroup.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(QubeState.STARTING, hypervisor.state("slow"));
        CompletableFuture<Void> kill = hypervisor.kill("slow");
        killed.countDown();
        kill.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        ExecutionException error = assertThrows(ExecutionException.class, () -> start.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertInstanceOf(HypervisorException.OperationFailed.class, error.getCause());
        assertTrue(error.getCause().getMessage().contains("interrupted: the qube was killed"), error.getCause()::getMessage);
        assertEquals(QubeState.HALTED, hypervisor.state("slow"));
        events.awaitKinds("slow", WAIT, Kind.HALTED);
        assertEquals("killed while starting", events.of("slow").get(0).reason());
        await().atMost(WAIT).until(() -> SandboxFixture.processesOfUid(hypervisor.hostUid(spec)), List::isEmpty);
        hypervisor.start("slow").get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(QubeState.RUNNING, hypervisor.state("slow"), "starts again after the interrupted start");
        hypervisor.kill("slow").get();
    }
}
