package dev.qrexec.dispvm.registry;

import java.util.Objects;
import java.util.Set;

/**
 * A named storage pool (Qubes' {@code qvm-pool}): where volumes live and which driver manages them.
 * Only the model is here: the backend decides what a pool is on disk (the sandbox copies directories).
 *
 * @param name   unique name
 * @param driver {@code file}, {@code file-reflink}, {@code lvm_thin}, {@code zfs} or {@code linux-kernel}
 */
public record StoragePool(String name, String driver) {

    /** The default pool of a fresh system (Qubes' {@code varlibqubes}, file driver). */
    public static final String DEFAULT = "varlibqubes";
    /** Holds kernels; read-only volumes only. */
    public static final String KERNELS = "linux-kernel";
    public static final Set<String> DRIVERS = Set.of("file", "file-reflink", "lvm_thin", "zfs", "linux-kernel");

    public StoragePool {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(driver, "driver");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
            throw new RegistryException.InvalidValue("invalid pool name '" + name
                    + "': 1 to 64 letters, digits, '_', '-', '.', not starting with a symbol");
        }
        if (!DRIVERS.contains(driver)) {
            throw new RegistryException.InvalidValue("unknown pool driver '" + driver + "': expected one of "
                    + new java.util.TreeSet<>(DRIVERS));
        }
    }
}
