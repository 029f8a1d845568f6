package dev.qrexec.bench.xen;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.Hypervisors;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Latency of start, pause, unpause and kill of one qube, as the caller sees it (call to completed
 * future). Each benchmark brings the qube into the state it needs before every invocation, outside
 * the measured time. The backend is a {@link HypervisorConfig} string, so other backends join by
 * adding a value to {@code backend} (e.g. {@code -p backend=sim,sandbox:...}); on {@code sim} with
 * zero latencies this measures our own overhead: the hop to the backend thread and back.
 *
 * <p>Run: {@code bench/jmh HypervisorLifecycleBenchmark}
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HypervisorLifecycleBenchmark {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** The backend and its one qube. */
    @State(Scope.Thread)
    public static class Backend {

        /** A {@link HypervisorConfig} string: {@code sim}, {@code sim:boot-latency=1ms}, ... */
        @Param({"sim"})
        public String backend;

        Hypervisor hypervisor;
        String qube;

        @Setup(Level.Trial)
        public void create() {
            hypervisor = Hypervisors.create(HypervisorConfig.parse(backend + (backend.contains(":") ? "," : ":")
                    + "instance=bench"));
            qube = "bench-" + ProcessHandle.current().pid() % 100000;
            await(hypervisor.define(QubeSpec.builder(qube, 4000).memoryMiB(128).maxMemoryMiB(256).build()));
        }

        @TearDown(Level.Trial)
        public void close() {
            bringTo(QubeState.HALTED);
            await(hypervisor.undefine(qube));
            hypervisor.close();
        }

        void bringTo(QubeState wanted) {
            QubeStatePreparer.bringTo(hypervisor, qube, wanted, TIMEOUT);
        }
    }

    /**
     * The qube in the state the next invocation starts from, prepared outside the measured time.
     * Benchmarks reach the backend through this state only: JMH would give a benchmark that also
     * takes {@link Backend} directly a second, separate instance of it.
     */
    public abstract static class Prepared {
        Backend backend;

        void prepare(Backend backend, QubeState state) {
            this.backend = backend;
            backend.bringTo(state);
        }
    }

    @State(Scope.Thread)
    public static class Halted extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Backend backend) {
            prepare(backend, QubeState.HALTED);
        }
    }

    @State(Scope.Thread)
    public static class Running extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Backend backend) {
            prepare(backend, QubeState.RUNNING);
        }
    }

    @State(Scope.Thread)
    public static class Paused extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Backend backend) {
            prepare(backend, QubeState.PAUSED);
        }
    }

    @Benchmark
    public void start(Halted q) {
        await(q.backend.hypervisor.start(q.backend.qube));
    }

    @Benchmark
    public void pause(Running q) {
        await(q.backend.hypervisor.pause(q.backend.qube));
    }

    @Benchmark
    public void unpause(Paused q) {
        await(q.backend.hypervisor.unpause(q.backend.qube));
    }

    @Benchmark
    public void kill(Running q) {
        await(q.backend.hypervisor.kill(q.backend.qube));
    }

    private static void await(CompletableFuture<Void> future) {
        QubeStatePreparer.await(future, TIMEOUT);
    }
}
