package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.Hypervisor;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.HypervisorProvider;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * {@code libvirt} for {@link dev.qrexec.xen.Hypervisors}, e.g.
 * {@code libvirt:uri=test:///default,instance=dev}. Options: {@code uri} (default
 * {@code xen:///system}), {@code library}, {@code operation-threads}, {@code poll-interval},
 * {@code host-memory-mib}, {@code kernel}, {@code initrd}, {@code kernel-args}. The state
 * directory, if given, holds the volatile images.
 */
public final class LibvirtHypervisorProvider implements HypervisorProvider {

    private static final Set<String> OPTIONS = Set.of("uri", "library", "operation-threads", "poll-interval",
            "host-memory-mib", "kernel", "initrd", "kernel-args");

    @Override
    public String name() {
        return "libvirt";
    }

    @Override
    public Set<String> options() {
        return OPTIONS;
    }

    @Override
    public Hypervisor create(HypervisorConfig config) {
        LibvirtConfig.Builder b = LibvirtConfig.builder(config.option("uri").orElse("xen:///system"))
                .instanceName(config.instanceName());
        config.option("library").ifPresent(b::libraryName);
        config.option("operation-threads").ifPresent(v ->
                b.operationThreads(Math.toIntExact(config.longOption("operation-threads", 0))));
        config.option("poll-interval").ifPresent(v -> b.pollInterval(config.durationOption("poll-interval",
                Duration.ZERO)));
        config.option("host-memory-mib").ifPresent(v -> b.hostMemoryMiB(config.longOption("host-memory-mib", 0)));
        config.stateDir().ifPresent(dir -> b.storageDir(dir.toAbsolutePath()));
        config.option("kernel").ifPresent(kernel -> b.boot(new BootImage(Path.of(kernel),
                config.option("initrd").map(Path::of), config.option("kernel-args").orElse(""))));
        if (config.option("kernel").isEmpty()
                && (config.option("initrd").isPresent() || config.option("kernel-args").isPresent())) {
            throw new IllegalArgumentException(
                    "options initrd and kernel-args of backend libvirt need the option kernel");
        }
        return LibvirtHypervisor.open(b.build());
    }
}
