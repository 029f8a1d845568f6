package dev.qrexec.bench.dispvm;

import dev.qrexec.dispvm.Disposable;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.sim.SimHypervisor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Time to obtain a disposable: from a ready preload and cold, on the sim backend (zero latencies: the
 * manager's own overhead, store fsyncs included), then under a steady request rate with a sim boot
 * latency, for queue sizes 1-4 (p50, p99, and how many requests found the queue empty).
 *
 * <p>Run: {@code mvn -o -q -B -pl tests -am package -DskipTests && java -cp "tests/target/tests.jar:tests/target/lib/*"
 * dev.qrexec.bench.dispvm.DisposableLatencyBench [iterations]}
 */
public final class DisposableLatencyBench {

    /** Where stores go: {@code -Ddispvm.bench.dir=/dev/shm} takes fsync cost out of the numbers. */
    private static final Path BASE = Path.of(System.getProperty("dispvm.bench.dir", System.getProperty("java.io.tmpdir")));

    private DisposableLatencyBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        System.out.println("# dispvm obtain latency, sim backend, " + n + " iterations, store on "
                + BASE.toAbsolutePath());
        try (SimHypervisor sim = SimHypervisor.builder().hostMemoryMiB(1 << 20).build()) {
            overhead(sim, n);
        }
        for (int queue = 1; queue <= 4; queue++) {
            try (SimHypervisor sim = SimHypervisor.builder().hostMemoryMiB(1 << 20)
                    .bootLatency(Duration.ofMillis(400)).pauseLatency(Duration.ofMillis(5))
                    .unpauseLatency(Duration.ofMillis(5)).killLatency(Duration.ofMillis(20)).build()) {
                steady(sim, queue, Math.max(40, n / 4), Duration.ofMillis(150), Duration.ofMillis(100));
            }
        }
    }

    static DispvmManager manager(Hypervisor hv, Path store) {
        DispvmManager m = DispvmManager.builder(hv).storeDir(store).timings(PreloadTimings.immediate()).build();
        var a = m.admin();
        a.setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0");
        a.create("fedora", QubeClass.TEMPLATE_VM, Map.of());
        a.setFeature("fedora", Features.QREXEC, "1");
        a.setFeature("fedora", Features.RPC_WAIT_RUNNING, "1");
        a.setFeature("fedora", Features.RPC_WAIT_SESSION, "1");
        a.create("dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        a.create("work", QubeClass.APP_VM, Map.of("template", "fedora", "default_dispvm", "dvm"));
        return m;
    }

    private static void overhead(SimHypervisor sim, int n) throws Exception {
        Path dir = Files.createTempDirectory(BASE, "dispvm-bench");
        try (DispvmManager m = manager(sim, dir)) {
            List<Long> cold = new ArrayList<>();
            List<Long> warm = new ArrayList<>();
            for (int i = 0; i < n / 10; i++) {       // warm-up of both paths
                m.release(m.obtain("dvm", "work").join().name()).join();
            }
            for (int i = 0; i < n; i++) {
                Disposable d = m.obtain("dvm", "work").join();
                cold.add(d.took().toNanos());
                m.release(d.name()).join();
            }
            m.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
            for (int i = 0; i < n; i++) {
                waitUntil(() -> m.queueStatus("dvm").ready().size() == 1);
                Disposable d = m.obtain("dvm", "work").join();
                if (!d.preloaded()) {
                    throw new IllegalStateException("expected a preload");
                }
                warm.add(d.took().toNanos());
                m.release(d.name()).join();
            }
            System.out.println("| path | n | p50 ms | p99 ms | max ms | cold (queue empty) | found no ready preload |");
            System.out.println("|---|---|---|---|---|---|---|");
            System.out.println(row("sim, zero latency, cold", cold, -1) + " - |");
            System.out.println(row("sim, zero latency, ready preload", warm, -1) + " - |");
        } finally {
            deleteTree(dir);
        }
    }

    private static void steady(SimHypervisor sim, int queue, int requests, Duration interval, Duration hold)
            throws Exception {
        Path dir = Files.createTempDirectory(BASE, "dispvm-bench");
        try (DispvmManager m = manager(sim, dir)) {
            m.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, Integer.toString(queue));
            waitUntil(() -> m.queueStatus("dvm").ready().size() == queue);
            List<CompletableFuture<Disposable>> all = new ArrayList<>();
            List<CompletableFuture<Void>> releases = java.util.Collections.synchronizedList(new ArrayList<>());
            int noneReady = 0;
            long next = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                LockSupport.parkNanos(next - System.nanoTime());
                next += interval.toNanos();
                if (m.queueStatus("dvm").ready().isEmpty()) {
                    noneReady++;
                }
                CompletableFuture<Disposable> f = m.obtain("dvm", "work");
                releases.add(f.thenCompose(d -> CompletableFuture.supplyAsync(() -> d,
                        CompletableFuture.delayedExecutor(hold.toMillis(), TimeUnit.MILLISECONDS)))
                        .thenCompose(d -> m.release(d.name())));
                all.add(f);
            }
            List<Long> lat = new ArrayList<>();
            int missed = 0;
            for (CompletableFuture<Disposable> f : all) {
                Disposable d = f.join();
                lat.add(d.took().toNanos());
                if (!d.preloaded()) {
                    missed++;
                }
            }
            CompletableFuture.allOf(releases.toArray(CompletableFuture[]::new)).join();
            System.out.println(row("steady 1 req/" + interval.toMillis() + " ms, boot 400 ms, queue " + queue,
                    lat, missed) + " " + noneReady + "/" + requests + " |");
        } finally {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path root) throws java.io.IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void waitUntil(BooleanSupplier c) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for the queue");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    static String row(String what, List<Long> nanos, int missed) {
        List<Long> s = new ArrayList<>(nanos);
        Collections.sort(s);
        double p50 = s.get(s.size() / 2) / 1e6;
        double p99 = s.get(Math.min(s.size() - 1, (int) Math.ceil(s.size() * 0.99) - 1)) / 1e6;
        double max = s.get(s.size() - 1) / 1e6;
        return String.format("| %s | %d | %.2f | %.2f | %.2f | %s", what, s.size(), p50, p99, max,
                missed < 0 ? "-" : missed + "/" + s.size()) + " |";
    }
}
