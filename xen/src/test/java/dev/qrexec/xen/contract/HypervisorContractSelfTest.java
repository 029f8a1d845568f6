package dev.qrexec.xen.contract;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.LifecycleEvent;
import dev.qrexec.xen.MemoryUsage;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sim.SimHypervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The contract suite must catch broken backends: each test here runs one contract test against
 * the sim backend with one defect planted, and expects it to fail.
 */
class HypervisorContractSelfTest {

    @TempDir
    Path tempDir;

    @Test
    void catchesADroppedEvent() throws Exception {
        Suite suite = suite(sim -> new Forwarding(sim) {
            @Override
            public AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
                return sim.subscribe(e -> {
                    if (e.kind() != LifecycleEvent.Kind.PAUSED) {
                        listener.accept(e);
                    }
                });
            }
        });
        expectFailure(suite, suite::pauseAndUnpause);
    }

    @Test
    void catchesAStartThatDoesNotCheckTheState() throws Exception {
        Suite suite = suite(sim -> new Forwarding(sim) {
            @Override
            public CompletableFuture<Void> start(String name) {
                return sim.state(name) == QubeState.RUNNING ? CompletableFuture.completedFuture(null) : sim.start(name);
            }
        });
        expectFailure(suite, suite::startingARunningQubeFails);
    }

    @Test
    void catchesTheWrongErrorType() throws Exception {
        Suite suite = suite(sim -> new Forwarding(sim) {
            @Override
            public CompletableFuture<Void> kill(String name) {
                return sim.state(name) == QubeState.HALTED
                        ? CompletableFuture.failedFuture(new IllegalStateException("halted"))
                        : sim.kill(name);
            }
        });
        expectFailure(suite, suite::killingAHaltedQubeFails);
    }

    @Test
    void catchesAMemoryTargetThatIsNotRecorded() throws Exception {
        Suite suite = suite(sim -> new Forwarding(sim) {
            @Override
            public CompletableFuture<Void> setMemoryTarget(String name, long targetBytes) {
                return CompletableFuture.completedFuture(null);
            }
        });
        expectFailure(suite, suite::memoryTargetIsRecorded);
    }

    @Test
    void passesTheUnbrokenBackend() throws Exception {
        Suite suite = suite(sim -> new Forwarding(sim) { });
        suite.setUpHypervisor();
        try {
            suite.pauseAndUnpause();
            suite.killingAHaltedQubeFails();
        } finally {
            suite.tearDownHypervisor();
        }
    }

    private Suite suite(UnaryOperator<Hypervisor> defect) {
        Suite suite = new Suite(defect);
        suite.tempDir = tempDir;
        return suite;
    }

    private static void expectFailure(Suite suite, Runnable test) throws Exception {
        suite.setUpHypervisor();
        try {
            assertThrows(AssertionError.class, test::run);
        } finally {
            suite.hypervisor.close();
        }
    }

    static final class Suite extends HypervisorContract {
        private final UnaryOperator<Hypervisor> defect;

        Suite(UnaryOperator<Hypervisor> defect) {
            this.defect = defect;
        }

        @Override
        protected Hypervisor createHypervisor(Path tempDir) {
            return defect.apply(SimHypervisor.builder().allLatencies(Duration.ofMillis(1)).build());
        }

        @Override
        protected Duration operationTimeout() {
            return Duration.ofSeconds(2);
        }
    }

    /** Passes every call to the wrapped backend; tests override the call they break. */
    abstract static class Forwarding implements Hypervisor {
        final Hypervisor sim;

        Forwarding(Hypervisor sim) {
            this.sim = sim;
        }

        @Override public String backendName() { return sim.backendName(); }
        @Override public CompletableFuture<Void> define(QubeSpec spec) { return sim.define(spec); }
        @Override public QubeSpec spec(String name) { return sim.spec(name); }
        @Override public CompletableFuture<Void> start(String name) { return sim.start(name); }
        @Override public CompletableFuture<Void> pause(String name) { return sim.pause(name); }
        @Override public CompletableFuture<Void> unpause(String name) { return sim.unpause(name); }
        @Override public CompletableFuture<Void> shutdown(String name, Duration timeout) { return sim.shutdown(name, timeout); }
        @Override public CompletableFuture<Void> kill(String name) { return sim.kill(name); }
        @Override public CompletableFuture<Void> undefine(String name) { return sim.undefine(name); }
        @Override public QubeState state(String name) { return sim.state(name); }
        @Override public List<String> list() { return sim.list(); }
        @Override public CompletableFuture<Void> setMemoryTarget(String name, long bytes) { return sim.setMemoryTarget(name, bytes); }
        @Override public MemoryUsage memory(String name) { return sim.memory(name); }
        @Override public HostMemory hostMemory() { return sim.hostMemory(); }
        @Override public AutoCloseable subscribe(Consumer<LifecycleEvent> listener) { return sim.subscribe(listener); }
        @Override public void close() { sim.close(); }
    }
}
