package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.libvirt.binding.Libvirt;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of one {@link LibvirtHypervisor}. Build with {@link #builder(String)}; every setter
 * validates at once with a message naming the setting and the bad value.
 *
 * @param uri                 libvirt connection URI: {@code xen:///system} on a Qubes/Xen host,
 *                            {@code qemu:///system}, or {@code test:///default} for tests
 * @param instanceName        this backend's name, written into every domain it defines; it only
 *                            ever touches domains carrying it
 * @param libraryName         the shared library to load
 * @param flavor              domain XML flavor (from the URI unless set)
 * @param operationThreads    threads making blocking libvirt calls
 * @param maxQueuedOperations operations waiting for a thread before new ones are refused
 * @param pollInterval        how often a stopping qube's state is polled (besides events) and
 *                            memory figures are refreshed
 * @param hostMemoryMiB       if present, the backend accounts host memory itself against this
 *                            size (free = size minus its running qubes' memory); if empty it asks
 *                            libvirt ({@code virNodeGetInfo}, {@code virNodeGetFreeMemory}).
 *                            Defaults to the node's size for {@code test:} URIs, whose free figure
 *                            is a constant.
 * @param hostMemoryFromNodeSize with no {@code hostMemoryMiB}: account against the node's size
 *                            instead of trusting libvirt's free figure (set for {@code test:} URIs)
 * @param storageDir          where the backend keeps per-qube files it creates (volatile images);
 *                            empty: no volatile disk
 * @param boot                the kernel every qube boots (needed on a real Xen or KVM host);
 *                            empty: none in the XML (enough for the test driver)
 */
public record LibvirtConfig(String uri, String instanceName, String libraryName, DomainFlavor flavor,
                            int operationThreads, int maxQueuedOperations, Duration pollInterval,
                            Optional<Long> hostMemoryMiB, boolean hostMemoryFromNodeSize,
                            Optional<Path> storageDir, Optional<BootImage> boot) {

    public LibvirtConfig {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(instanceName, "instanceName");
        Objects.requireNonNull(libraryName, "libraryName");
        Objects.requireNonNull(flavor, "flavor");
        Objects.requireNonNull(pollInterval, "pollInterval");
        Objects.requireNonNull(hostMemoryMiB, "hostMemoryMiB");
        Objects.requireNonNull(storageDir, "storageDir");
        Objects.requireNonNull(boot, "boot");
    }

    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    /** Validating builder. Defaults: instance "qrexec", 4 threads, 1024 queued, poll every 200 ms. */
    public static final class Builder {
        private final String uri;
        private final DomainFlavor uriFlavor;
        private String instanceName = "qrexec";
        private String libraryName = Libvirt.DEFAULT_LIBRARY;
        private DomainFlavor flavor;
        private int operationThreads = 4;
        private int maxQueuedOperations = 1024;
        private Duration pollInterval = Duration.ofMillis(200);
        private Long hostMemoryMiB;
        private Path storageDir;
        private BootImage boot;

        private Builder(String uri) {
            Objects.requireNonNull(uri, "uri");
            this.uri = uri;
            this.uriFlavor = DomainFlavor.forUri(uri);
        }

        public Builder instanceName(String name) {
            Objects.requireNonNull(name, "instanceName");
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
                throw new IllegalArgumentException("instanceName '" + name
                        + "': 1 to 64 letters, digits, '_', '-' or '.', not starting with a punctuation mark");
            }
            this.instanceName = name;
            return this;
        }

        public Builder libraryName(String libraryName) {
            Objects.requireNonNull(libraryName, "libraryName");
            if (libraryName.isBlank()) {
                throw new IllegalArgumentException("libraryName must not be blank");
            }
            this.libraryName = libraryName;
            return this;
        }

        public Builder flavor(DomainFlavor flavor) {
            this.flavor = Objects.requireNonNull(flavor, "flavor");
            return this;
        }

        public Builder operationThreads(int threads) {
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("operationThreads must be between 1 and 64, was " + threads);
            }
            this.operationThreads = threads;
            return this;
        }

        public Builder maxQueuedOperations(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxQueuedOperations must be positive, was " + max);
            }
            this.maxQueuedOperations = max;
            return this;
        }

        public Builder pollInterval(Duration interval) {
            Objects.requireNonNull(interval, "pollInterval");
            if (interval.toMillis() < 10 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("pollInterval must be between 10 ms and 1 min, was " + interval);
            }
            this.pollInterval = interval;
            return this;
        }

        public Builder hostMemoryMiB(long mib) {
            if (mib <= 0) {
                throw new IllegalArgumentException("hostMemoryMiB must be positive, was " + mib);
            }
            this.hostMemoryMiB = mib;
            return this;
        }

        public Builder storageDir(Path dir) {
            Objects.requireNonNull(dir, "storageDir");
            if (!dir.isAbsolute()) {
                throw new IllegalArgumentException("storageDir must be an absolute path, was " + dir);
            }
            this.storageDir = dir;
            return this;
        }

        public Builder boot(BootImage boot) {
            this.boot = Objects.requireNonNull(boot, "boot");
            return this;
        }

        public LibvirtConfig build() {
            boolean fromNodeSize = hostMemoryMiB == null && uriFlavor == DomainFlavor.TEST;
            return new LibvirtConfig(uri, instanceName, libraryName, flavor == null ? uriFlavor : flavor,
                    operationThreads, maxQueuedOperations, pollInterval, Optional.ofNullable(hostMemoryMiB),
                    fromNodeSize, Optional.ofNullable(storageDir), Optional.ofNullable(boot));
        }
    }
}
