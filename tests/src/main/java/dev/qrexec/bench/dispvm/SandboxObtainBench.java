package dev.qrexec.bench.dispvm;

import dev.qrexec.dispvm.Disposable;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sandbox.HostTemplateRoot;
import dev.qrexec.xen.sandbox.SandboxConfig;
import dev.qrexec.xen.sandbox.SandboxHypervisor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Time to obtain a disposable on the real {@code sandbox} backend (bubblewrap + cgroups; an idle
 * shell as init, readiness = "init runs"): from a ready preload, and cold.
 *
 * <p>Run (as root, with bubblewrap): {@code java -cp "tests/target/tests.jar:tests/target/lib/*"
 * dev.qrexec.bench.dispvm.SandboxObtainBench [iterations]}
 */
public final class SandboxObtainBench {

    private SandboxObtainBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        Path work = Files.createTempDirectory("dispvm-sandbox-bench-");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
        Path root = HostTemplateRoot.builder(work.resolve("root")).build();
        Files.createDirectories(work.resolve("private-dvm"));
        List<String> init = List.of("/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done");
        QubeSpecFactory specs = (s, q) -> {
            QubeSpec.Builder b = QubeSpec.builder(q.name(), q.domainId()).memoryMiB(64).maxMemoryMiB(256).vcpus(1)
                    .volatileSizeMiB(16).templateRoot(root).privateStorage(work.resolve("private-" + q.name()))
                    .channelDir(work.resolve("ch-" + q.name())).init(init);
            if (q.klass() == QubeClass.DISP_VM) {
                b.privateSource(work.resolve("private-" + q.properties().get(PropertyRules.TEMPLATE))).discardOnStop(true);
            }
            return b.build();
        };
        try (SandboxHypervisor hv = SandboxHypervisor.open(SandboxConfig.builder("bench" + ProcessHandle.current().pid())
                .stateRoot(work.resolve("state")).startTimeout(Duration.ofSeconds(20)).build());
             DispvmManager m = DispvmManager.builder(hv).storeDir(work.resolve("store")).specFactory(specs)
                     .timings(PreloadTimings.immediate()).build()) {
            var a = m.admin();
            a.setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0");
            a.create("tpl", QubeClass.TEMPLATE_VM, java.util.Map.of());
            for (String f : new String[] {Features.QREXEC, Features.RPC_WAIT_RUNNING, Features.RPC_WAIT_SESSION}) {
                a.setFeature("tpl", f, "1");
            }
            a.create("dvm", QubeClass.APP_VM, java.util.Map.of("template", "tpl", "template_for_dispvms", "True"));
            List<Long> cold = new ArrayList<>();
            List<Long> warm = new ArrayList<>();
            List<Long> release = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Disposable d = m.obtain("dvm", "dom0").join();
                cold.add(d.took().toNanos());
                long t0 = System.nanoTime();
                m.release(d.name()).join();
                release.add(System.nanoTime() - t0);
            }
            a.setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
            for (int i = 0; i < n; i++) {
                DisposableLatencyBench.waitUntil(() -> m.queueStatus("dvm").ready().size() == 1);
                Disposable d = m.obtain("dvm", "dom0").join();
                if (!d.preloaded()) {
                    throw new IllegalStateException("expected a preload");
                }
                warm.add(d.took().toNanos());
                m.release(d.name()).join();
            }
            a.removeFeature("dvm", Features.PRELOAD_DISPVM_MAX);
            DisposableLatencyBench.waitUntil(() -> hv.list().isEmpty());
            System.out.println("| path | n | p50 ms | p99 ms | max ms |");
            System.out.println("|---|---|---|---|---|");
            System.out.println(DisposableLatencyBench.row("sandbox, cold (define, start, init runs)", cold, -1));
            System.out.println(DisposableLatencyBench.row("sandbox, ready preload (unpause)", warm, -1));
            System.out.println(DisposableLatencyBench.row("sandbox, release (kill, discard storage)", release, -1));
        } finally {
            deleteTree(work);
        }
    }

    /** Deletes without following symbolic links: the template root links into the host's /usr. */
    private static void deleteTree(Path root) throws java.io.IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
