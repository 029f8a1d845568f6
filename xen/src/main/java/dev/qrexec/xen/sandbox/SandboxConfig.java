package dev.qrexec.xen.sandbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of one sandbox backend instance. Build with {@link #builder(String)}.
 *
 * @param instance        instance name, the marker on every resource this backend creates
 *                        ({@code qrexec.<instance>} cgroups, {@code <stateRoot>/<instance>} state)
 * @param stateRoot       parent of the instance's state directory
 * @param cgroupRoot      where cgroupfs is mounted ({@code /sys/fs/cgroup})
 * @param bwrap           bubblewrap binary; empty: looked up on {@code PATH}
 * @param setpriv         setpriv binary (util-linux); empty: looked up on {@code PATH}
 * @param uidBase         a qube runs as host uid/gid {@code uidBase + domainId}
 * @param hostMemoryBytes memory the backend may give to qubes; 0: {@code MemTotal} of /proc/meminfo
 * @param startTimeout    how long a start may take until the init runs
 * @param killTimeout     how long SIGKILLed processes may take to disappear
 * @param freezeTimeout   how long a freeze may take to settle
 * @param workerThreads   threads running life-cycle operations (operations on one qube run in order)
 * @param pidsMax         most processes and threads one qube may have (pids controller); 0: no limit
 * @param consoleMaxBytes a qube's console log is cut (last quarter kept in console.log.1) beyond this; 0: never
 */
public record SandboxConfig(
        String instance,
        Path stateRoot,
        Path cgroupRoot,
        Optional<Path> bwrap,
        Optional<Path> setpriv,
        int uidBase,
        long hostMemoryBytes,
        Duration startTimeout,
        Duration killTimeout,
        Duration freezeTimeout,
        int workerThreads,
        long pidsMax,
        long consoleMaxBytes) {

    /** Highest domain id a qube may have, so that {@code uidBase + domainId} stays a valid uid. */
    public static final int MAX_UID = 0x7fff_fff0;

    public SandboxConfig {
        Objects.requireNonNull(instance, "instance");
        Objects.requireNonNull(stateRoot, "stateRoot");
        Objects.requireNonNull(cgroupRoot, "cgroupRoot");
        Objects.requireNonNull(bwrap, "bwrap");
        Objects.requireNonNull(setpriv, "setpriv");
        Objects.requireNonNull(startTimeout, "startTimeout");
        Objects.requireNonNull(killTimeout, "killTimeout");
        Objects.requireNonNull(freezeTimeout, "freezeTimeout");
        if (!instance.matches("[a-z0-9][a-z0-9_-]{0,39}")) {
            throw new IllegalArgumentException("invalid instance name '" + instance
                    + "': 1 to 40 characters, lower-case letters, digits, '_' or '-', not starting with '_' or '-'");
        }
        if (uidBase < 1000 || uidBase > MAX_UID) {
            throw new IllegalArgumentException("uidBase must be in [1000, " + MAX_UID + "] so qubes never run as a"
                    + " system user, was " + uidBase);
        }
        if (hostMemoryBytes < 0) {
            throw new IllegalArgumentException("hostMemoryBytes must be 0 (read /proc/meminfo) or positive, was "
                    + hostMemoryBytes);
        }
        requirePositive("startTimeout", startTimeout);
        requirePositive("killTimeout", killTimeout);
        requirePositive("freezeTimeout", freezeTimeout);
        if (workerThreads < 1 || workerThreads > 64) {
            throw new IllegalArgumentException("workerThreads must be in [1, 64], was " + workerThreads);
        }
        if (consoleMaxBytes < 0) {
            throw new IllegalArgumentException("consoleMaxBytes must be 0 (no cap) or positive, was " + consoleMaxBytes);
        }
        if (pidsMax < 0) {
            throw new IllegalArgumentException("pidsMax must be 0 (no limit) or positive, was " + pidsMax);
        }
    }

    private static void requirePositive(String what, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + value);
        }
    }

    /** Directory holding this instance's per-qube state. */
    public Path stateDir() {
        return stateRoot.resolve(instance);
    }

    public static Builder builder(String instance) {
        return new Builder(instance);
    }

    /**
     * Defaults: state under {@code /run/qrexec-sandbox}, cgroups under {@code /sys/fs/cgroup}, binaries
     * from {@code PATH}, uid base 200000 (above the usual subordinate-id range 100000-165535), host
     * memory from /proc/meminfo, start 10 s, kill 5 s, freeze 2 s, 4 worker threads, 4096 pids per
     * qube (a fork bomb in one qube cannot exhaust the host's pid space), console logs cut at 1 MiB.
     */
    public static final class Builder {
        private final String instance;
        private Path stateRoot = Path.of("/run/qrexec-sandbox");
        private Path cgroupRoot = Path.of("/sys/fs/cgroup");
        private Path bwrap;
        private Path setpriv;
        private int uidBase = 200_000;
        private long hostMemoryBytes;
        private Duration startTimeout = Duration.ofSeconds(10);
        private Duration killTimeout = Duration.ofSeconds(5);
        private Duration freezeTimeout = Duration.ofSeconds(2);
        private int workerThreads = 4;
        private long pidsMax = 4096;
        private long consoleMaxBytes = 1L << 20;

        private Builder(String instance) {
            this.instance = instance;
        }

        public Builder stateRoot(Path stateRoot) { this.stateRoot = stateRoot; return this; }
        public Builder cgroupRoot(Path cgroupRoot) { this.cgroupRoot = cgroupRoot; return this; }
        public Builder bwrap(Path bwrap) { this.bwrap = bwrap; return this; }
        public Builder setpriv(Path setpriv) { this.setpriv = setpriv; return this; }
        public Builder uidBase(int uidBase) { this.uidBase = uidBase; return this; }
        public Builder hostMemoryBytes(long hostMemoryBytes) { this.hostMemoryBytes = hostMemoryBytes; return this; }
        public Builder startTimeout(Duration startTimeout) { this.startTimeout = startTimeout; return this; }
        public Builder killTimeout(Duration killTimeout) { this.killTimeout = killTimeout; return this; }
        public Builder freezeTimeout(Duration freezeTimeout) { this.freezeTimeout = freezeTimeout; return this; }
        public Builder workerThreads(int workerThreads) { this.workerThreads = workerThreads; return this; }
        public Builder pidsMax(long pidsMax) { this.pidsMax = pidsMax; return this; }
        public Builder consoleMaxBytes(long consoleMaxBytes) { this.consoleMaxBytes = consoleMaxBytes; return this; }

        public SandboxConfig build() {
            return new SandboxConfig(instance, stateRoot, cgroupRoot, Optional.ofNullable(bwrap),
                    Optional.ofNullable(setpriv), uidBase, hostMemoryBytes, startTimeout, killTimeout,
                    freezeTimeout, workerThreads, pidsMax, consoleMaxBytes);
        }
    }
}
