package dev.qrexec.dispvm.sandbox;

import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.PropertyRules;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.dispvm.spi.QubeSpecFactory;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.sandbox.HostTemplateRoot;
import dev.qrexec.xen.sandbox.SandboxConfig;
import dev.qrexec.xen.sandbox.SandboxHypervisor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * The real {@code sandbox} backend (bubblewrap + cgroups) under a manager: a template root from the
 * host, private storage per qube (a disposable's is a fresh copy of its dvm template's), an idle
 * shell as every qube's init. Shared by the in-process test and the child "daemon" JVM.
 */
final class SandboxSetup {

    static final List<String> IDLE_INIT = List.of("/bin/sh", "-c",
            "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done");

    private SandboxSetup() {
    }

    /** Lays out {@code work} (template root, dvm private dir) once; safe to call again. */
    static void prepare(Path work) throws IOException {
        Files.createDirectories(work);
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
        if (!Files.exists(work.resolve("root"))) {
            HostTemplateRoot.builder(work.resolve("root")).build();
        }
        Files.createDirectories(work.resolve("private-dvm"));
        Files.writeString(work.resolve("private-dvm/seed"), "from the dvm template\n");
    }

    /** Deletes a tree without following symbolic links (the template root links into the host). */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes a)
                    throws IOException {
                Files.delete(file);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    static SandboxHypervisor open(Path work, String instance) {
        return SandboxHypervisor.open(SandboxConfig.builder(instance).stateRoot(work.resolve("state"))
                .startTimeout(Duration.ofSeconds(20)).workerThreads(2).build());
    }

    static QubeSpecFactory specs(Path work) {
        return (state, qube) -> {
            QubeSpec.Builder b = QubeSpec.builder(qube.name(), qube.domainId())
                    .memoryMiB(Long.parseLong(state.property(qube, PropertyRules.MEMORY)))
                    .maxMemoryMiB(Long.parseLong(state.property(qube, PropertyRules.MAXMEM)))
                    .vcpus(1).volatileSizeMiB(16)
                    .templateRoot(work.resolve("root"))
                    .privateStorage(work.resolve("private-" + qube.name()))
                    .channelDir(work.resolve("ch-" + qube.name()))
                    .init(IDLE_INIT);
            QubeSpecFactory.privateSnapshotSource(state, qube)
                    .ifPresent(origin -> b.privateSource(work.resolve("private-" + origin)));
            b.discardOnStop(qube.klass() == QubeClass.DISP_VM);
            return b.build();
        };
    }

    static DispvmManager manager(SandboxHypervisor hv, Path work, QubeReadiness readiness) {
        return DispvmManager.builder(hv).storeDir(work.resolve("store")).specFactory(specs(work))
                .readiness(readiness).timings(PreloadTimings.immediate()).build();
    }
}
