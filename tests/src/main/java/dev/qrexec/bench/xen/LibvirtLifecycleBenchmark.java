package dev.qrexec.bench.xen;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.LibvirtConfig;
import dev.qrexec.xen.libvirt.LibvirtHypervisor;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.Libvirt;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Start, pause, unpause and kill latency of the libvirt backend on {@code test:///default}, next to
 * the same libvirt calls made directly through the binding on the benchmark thread ({@code raw*}).
 * The difference is the backend's own cost: the hop to its op thread and its serial queue, the
 * domain lookup by UUID, the state checks, the event hand-off, and the wake-up of the caller.
 * The test driver does no real work, so this is the floor; on {@code xen:///system} each call is
 * an RPC to libvirtd and a Xen operation, orders of magnitude slower.
 *
 * <p>Run: {@code bench/jmh LibvirtLifecycleBenchmark}
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LibvirtLifecycleBenchmark {

    /** One backend on the test driver with one qube, and a raw connection with its own domain. */
    @State(Scope.Thread)
    public static class Env {
        LibvirtHypervisor hypervisor;
        String qube;
        LibvirtConnection raw;
        DomainHandle rawDomain;

        @Setup(Level.Trial)
        public void open() {
            hypervisor = LibvirtHypervisor.open(LibvirtConfig.builder("test:///default")
                    .instanceName("bench").build());
            long pid = ProcessHandle.current().pid() % 100000;
            qube = "lvbench-" + pid;
            await(hypervisor.define(QubeSpec.builder(qube, 4100).memoryMiB(128).maxMemoryMiB(256).build()));
            raw = LibvirtConnection.open(Libvirt.load(Libvirt.DEFAULT_LIBRARY), "test:///default");
            String rawName = "lvraw-" + pid;
            rawDomain = raw.define(rawName, "<domain type='test'><name>" + rawName + "</name>"
                    + "<memory unit='MiB'>128</memory><os><type>xen</type></os></domain>");
        }

        @TearDown(Level.Trial)
        public void close() {
            bringTo(QubeState.HALTED);
            await(hypervisor.undefine(qube));
            hypervisor.close();
            rawTo(DomainHandle.STATE_SHUTOFF);
            rawDomain.undefine(0);
            rawDomain.close();
            raw.close();
        }

        void bringTo(QubeState wanted) {
            QubeStatePreparer.bringTo(hypervisor, qube, wanted, Duration.ofSeconds(60));
        }

        void rawTo(int wanted) {
            int now = rawDomain.state()[0];
            if (now == wanted) {
                return;
            }
            switch (wanted) {
                case DomainHandle.STATE_SHUTOFF -> rawDomain.destroy();
                case DomainHandle.STATE_RUNNING -> {
                    if (now == DomainHandle.STATE_PAUSED) {
                        rawDomain.resume();
                    } else {
                        rawDomain.create();
                    }
                }
                case DomainHandle.STATE_PAUSED -> {
                    rawTo(DomainHandle.STATE_RUNNING);
                    rawDomain.suspend();
                }
                default -> throw new IllegalArgumentException("cannot prepare state " + wanted);
            }
        }
    }

    /** Prepared per invocation, outside the measured time; benchmarks reach {@link Env} only through it. */
    public abstract static class Prepared {
        Env env;
    }

    @State(Scope.Thread)
    public static class Halted extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Env env) {
            this.env = env;
            env.bringTo(QubeState.HALTED);
            env.rawTo(DomainHandle.STATE_SHUTOFF);
        }
    }

    @State(Scope.Thread)
    public static class Running extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Env env) {
            this.env = env;
            env.bringTo(QubeState.RUNNING);
            env.rawTo(DomainHandle.STATE_RUNNING);
        }
    }

    @State(Scope.Thread)
    public static class Paused extends Prepared {
        @Setup(Level.Invocation)
        public void prepare(Env env) {
            this.env = env;
            env.bringTo(QubeState.PAUSED);
            env.rawTo(DomainHandle.STATE_PAUSED);
        }
    }

    @Benchmark
    public void start(Halted q) {
        await(q.env.hypervisor.start(q.env.qube));
    }

    @Benchmark
    public void pause(Running q) {
        await(q.env.hypervisor.pause(q.env.qube));
    }

    @Benchmark
    public void unpause(Paused q) {
        await(q.env.hypervisor.unpause(q.env.qube));
    }

    @Benchmark
    public void kill(Running q) {
        await(q.env.hypervisor.kill(q.env.qube));
    }

    @Benchmark
    public void rawCreate(Halted q) {
        q.env.rawDomain.create();
    }

    @Benchmark
    public void rawSuspend(Running q) {
        q.env.rawDomain.suspend();
    }

    @Benchmark
    public void rawResume(Paused q) {
        q.env.rawDomain.resume();
    }

    @Benchmark
    public void rawDestroy(Running q) {
        q.env.rawDomain.destroy();
    }

    private static void await(CompletableFuture<Void> future) {
        QubeStatePreparer.await(future, Duration.ofSeconds(60));
    }
}
