package dev.qrexec.bench.xen;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sandbox.HostTemplateRoot;
import dev.qrexec.xen.sandbox.SandboxConfig;
import dev.qrexec.xen.sandbox.SandboxHypervisor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Life-cycle latency and memory cost of real sandbox qubes (bubblewrap + cgroups), as the caller of
 * the SPI sees them (call to completed future). Needs root, bwrap and cgroups; a small harness rather
 * than JMH because each sample is a real process tree and the numbers of interest are milliseconds.
 *
 * <p>Run: {@code java -cp tests/target/tests.jar:tests/target/lib/* dev.qrexec.bench.xen.SandboxBenchmark [rounds] [qubes]}
 */
public final class SandboxBenchmark {

    private static final List<String> IDLE_INIT = List.of("/bin/sh", "-c",
            "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done");

    private SandboxBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int qubes = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path work = Files.createTempDirectory("qrexec-sandbox-bench-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
        Path template = HostTemplateRoot.builder(work.resolve("template")).build();
        SandboxConfig config = SandboxConfig.builder("bench-" + ProcessHandle.current().pid())
                .stateRoot(work.resolve("state")).build();
        try (SandboxHypervisor hypervisor = SandboxHypervisor.open(config)) {
            System.out.printf(Locale.ROOT, "sandbox backend, cgroup %s, %d rounds%n", hypervisor.cgroupVersion(), rounds);
            hypervisor.define(spec(work, template, "lat", 1)).get();
            long[] start = new long[rounds];
            long[] pause = new long[rounds];
            long[] unpause = new long[rounds];
            long[] kill = new long[rounds];
            long[] shutdown = new long[rounds / 4];
            for (int i = 0; i < rounds; i++) {
                start[i] = time(() -> hypervisor.start("lat"));
                pause[i] = time(() -> hypervisor.pause("lat"));
                unpause[i] = time(() -> hypervisor.unpause("lat"));
                if (i % 4 == 0 && i / 4 < shutdown.length) {
                    shutdown[i / 4] = time(() -> hypervisor.shutdown("lat", Duration.ofSeconds(10)));
                    kill[i] = -1;
                } else {
                    kill[i] = time(() -> hypervisor.kill("lat"));
                }
            }
            report("start (to init running)", start);
            report("pause (frozen)", pause);
            report("unpause", unpause);
            report("kill (to halted, cleaned)", Arrays.stream(kill).filter(v -> v >= 0).toArray());
            report("shutdown (SIGTERM, init exits)", shutdown);
            hypervisor.undefine("lat").get();
            memory(hypervisor, work, template, qubes);
        } finally {
            deleteTree(work);
        }
    }

    private static void memory(SandboxHypervisor hypervisor, Path work, Path template, int count) throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = "mem" + i;
            hypervisor.define(spec(work, template, name, 100 + i)).get();
            hypervisor.start(name).get();
            names.add(name);
        }
        long cgroupTotal = 0;
        for (String name : names) {
            cgroupTotal += hypervisor.memory(name).currentBytes();
        }
        System.out.printf(Locale.ROOT, "memory, %d idle qubes (/bin/sh init): cgroup charge %.0f KiB/qube%n",
                count, cgroupTotal / 1024.0 / count);
        for (String name : names) {
            hypervisor.kill(name).get();
            hypervisor.undefine(name).get();
        }
    }

    private static QubeSpec spec(Path work, Path template, String name, int domainId) {
        return QubeSpec.builder(name, domainId).memoryMiB(64).maxMemoryMiB(256).volatileSizeMiB(16)
                .templateRoot(template).privateStorage(work.resolve("private-" + name))
                .channelDir(work.resolve("ch-" + name)).init(IDLE_INIT).build();
    }

    private static long time(Supplier<CompletableFuture<Void>> operation) throws Exception {
        long t0 = System.nanoTime();
        operation.get().get(60, TimeUnit.SECONDS);
        return System.nanoTime() - t0;
    }

    private static void report(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "%-34s n=%4d  p50 %8.3f ms  p90 %8.3f ms  p99 %8.3f ms  max %8.3f ms%n", what,
                sorted.length, ms(sorted, 0.50), ms(sorted, 0.90), ms(sorted, 0.99), sorted[sorted.length - 1] / 1e6);
    }

    private static double ms(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
