package dev.qrexec.xen;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a backend needs to define a qube. Immutable; build with {@link #builder(String, int)}.
 *
 * @param name             qube name (1..31 chars, letter first, then letters, digits, {@code _ - .})
 * @param domainId         numeric domain id; 0 is dom0 and never defined here
 * @param memoryMiB        initial memory
 * @param maxMemoryMiB     ceiling the qube may balloon up to ({@code >= memoryMiB})
 * @param vcpus            virtual CPUs
 * @param templateRoot     root file system the qube sees read-only (for sandbox: a directory)
 * @param privateStorage   persistent private directory, mounted read-write (home, /rw)
 * @param privateSource    if present, {@code privateStorage} is first made a fresh copy of this
 *                         directory (a disposable starting from its template's private data)
 * @param volatileSizeMiB  size of the volatile scratch storage (a tmpfs for sandbox)
 * @param discardOnStop    true for disposables: private storage is deleted when the qube stops
 * @param channelDir       the qube's own channel directory (its vchan sockets); only this one is visible
 * @param init             command run as the qube's init (the qrexec agent), inside the qube
 * @param environment      extra environment for {@code init}
 */
public record QubeSpec(
        String name,
        int domainId,
        long memoryMiB,
        long maxMemoryMiB,
        int vcpus,
        Optional<Path> templateRoot,
        Optional<Path> privateStorage,
        Optional<Path> privateSource,
        long volatileSizeMiB,
        boolean discardOnStop,
        Optional<Path> channelDir,
        List<String> init,
        Map<String, String> environment) {

    public QubeSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(templateRoot, "templateRoot");
        Objects.requireNonNull(privateStorage, "privateStorage");
        Objects.requireNonNull(privateSource, "privateSource");
        Objects.requireNonNull(channelDir, "channelDir");
        init = List.copyOf(Objects.requireNonNull(init, "init"));
        environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
        if (!name.matches("[A-Za-z][A-Za-z0-9_.-]{0,30}")) {
            throw new IllegalArgumentException("invalid qube name '" + name
                    + "': 1 to 31 characters, a letter first, then letters, digits, '_', '-' or '.'");
        }
        if (domainId <= 0) {
            throw new IllegalArgumentException("domainId of '" + name + "' must be positive, was " + domainId);
        }
        if (memoryMiB <= 0) {
            throw new IllegalArgumentException("memoryMiB of '" + name + "' must be positive, was " + memoryMiB);
        }
        if (maxMemoryMiB < memoryMiB) {
            throw new IllegalArgumentException("maxMemoryMiB of '" + name + "' (" + maxMemoryMiB
                    + ") must be at least memoryMiB (" + memoryMiB + ")");
        }
        if (vcpus <= 0) {
            throw new IllegalArgumentException("vcpus of '" + name + "' must be positive, was " + vcpus);
        }
        if (volatileSizeMiB < 0) {
            throw new IllegalArgumentException("volatileSizeMiB of '" + name + "' must not be negative, was "
                    + volatileSizeMiB);
        }
        if (privateSource.isPresent() && privateStorage.isEmpty()) {
            throw new IllegalArgumentException("privateSource of '" + name + "' needs privateStorage to copy into");
        }
    }

    public static Builder builder(String name, int domainId) {
        return new Builder(name, domainId);
    }

    /** Validating builder; defaults: 400 MiB, max 4000 MiB, 2 vcpus, 1024 MiB volatile, no init. */
    public static final class Builder {
        private final String name;
        private final int domainId;
        private long memoryMiB = 400;
        private long maxMemoryMiB = 4000;
        private int vcpus = 2;
        private Path templateRoot;
        private Path privateStorage;
        private Path privateSource;
        private long volatileSizeMiB = 1024;
        private boolean discardOnStop;
        private Path channelDir;
        private List<String> init = List.of();
        private Map<String, String> environment = Map.of();

        private Builder(String name, int domainId) {
            this.name = name;
            this.domainId = domainId;
        }

        public Builder memoryMiB(long memoryMiB) { this.memoryMiB = memoryMiB; return this; }
        public Builder maxMemoryMiB(long maxMemoryMiB) { this.maxMemoryMiB = maxMemoryMiB; return this; }
        public Builder vcpus(int vcpus) { this.vcpus = vcpus; return this; }
        public Builder templateRoot(Path templateRoot) { this.templateRoot = templateRoot; return this; }
        public Builder privateStorage(Path privateStorage) { this.privateStorage = privateStorage; return this; }
        public Builder privateSource(Path privateSource) { this.privateSource = privateSource; return this; }
        public Builder volatileSizeMiB(long volatileSizeMiB) { this.volatileSizeMiB = volatileSizeMiB; return this; }
        public Builder discardOnStop(boolean discardOnStop) { this.discardOnStop = discardOnStop; return this; }
        public Builder channelDir(Path channelDir) { this.channelDir = channelDir; return this; }
        public Builder init(List<String> init) { this.init = init; return this; }
        public Builder environment(Map<String, String> environment) { this.environment = environment; return this; }

        public QubeSpec build() {
            return new QubeSpec(name, domainId, memoryMiB, maxMemoryMiB, vcpus,
                    Optional.ofNullable(templateRoot), Optional.ofNullable(privateStorage),
                    Optional.ofNullable(privateSource), volatileSizeMiB, discardOnStop,
                    Optional.ofNullable(channelDir), init, environment);
        }
    }
}
