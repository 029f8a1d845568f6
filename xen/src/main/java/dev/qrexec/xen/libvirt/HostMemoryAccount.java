package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HostMemory;
import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import dev.qrexec.xen.libvirt.binding.LibvirtError;

import java.util.function.LongSupplier;

/**
 * Host memory as the backend accounts it, in one of two ways:
 * <ul>
 * <li><b>node</b>: libvirt's figures ({@code virNodeGetInfo} total, {@code virNodeGetFreeMemory}
 *     free), refreshed on the operation threads after each start and stop and periodically. Right
 *     for {@code xen:///system}, where free memory is Xen's own.</li>
 * <li><b>accounted</b>: a fixed size minus the memory of this backend's running qubes. Used with
 *     {@code hostMemoryMiB}, and for the test driver, whose free figure is a constant.</li>
 * </ul>
 * {@link #current} never calls libvirt.
 */
final class HostMemoryAccount {

    private static final System.Logger LOG = System.getLogger(HostMemoryAccount.class.getName());
    private static final long MIB = 1024L * 1024;

    private final LibvirtConnection conn;
    private final long totalBytes;
    private final boolean accounted;
    /** Node mode: last free figure from libvirt; written on op threads. */
    private volatile long nodeFreeBytes;

    private HostMemoryAccount(LibvirtConnection conn, long totalBytes, boolean accounted) {
        this.conn = conn;
        this.totalBytes = totalBytes;
        this.accounted = accounted;
    }

    /** On an op thread: reads the node's size (and free memory, in node mode). */
    static HostMemoryAccount create(LibvirtConfig config, LibvirtConnection conn) {
        long nodeBytes = conn.nodeInfo().memory.longValue() * 1024;
        HostMemoryAccount account;
        if (config.hostMemoryMiB().isPresent()) {
            account = new HostMemoryAccount(conn, config.hostMemoryMiB().get() * MIB, true);
        } else {
            account = new HostMemoryAccount(conn, nodeBytes, config.hostMemoryFromNodeSize());
        }
        account.refresh();
        return account;
    }

    boolean accounted() {
        return accounted;
    }

    HostMemory current(long runningQubesBytes) {
        if (accounted) {
            return new HostMemory(totalBytes, Math.max(0, totalBytes - runningQubesBytes));
        }
        return new HostMemory(totalBytes, Math.min(nodeFreeBytes, totalBytes));
    }

    /** On an op thread: re-reads libvirt's free figure (node mode). */
    void refresh() {
        if (accounted) {
            return;
        }
        try {
            nodeFreeBytes = conn.freeMemoryBytes();
        } catch (LibvirtError e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read free host memory: {0}", e.getMessage());
        }
    }

    /**
     * On an op thread: fails with InsufficientMemory unless the qube's initial memory fits, and
     * otherwise runs {@code reserve} (which marks the qube as starting, so it counts) before any
     * other start can check: two concurrent starts cannot both take the last free memory.
     */
    void reserve(QubeSpec spec, LongSupplier runningQubesBytes, Runnable reserve) {
        refresh();  // outside the lock: on a remote URI this is an RPC
        checkAndReserve(spec, runningQubesBytes, reserve);
    }

    private synchronized void checkAndReserve(QubeSpec spec, LongSupplier runningQubesBytes, Runnable reserve) {
        long free = current(runningQubesBytes.getAsLong()).freeBytes();
        long need = spec.memoryMiB() * MIB;
        if (need > free) {
            throw new HypervisorException.InsufficientMemory(spec.memoryMiB(), free / MIB);
        }
        reserve.run();
    }
}
