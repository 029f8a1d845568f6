package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One {@code virDomainPtr} we own; {@link #close} frees it ({@code virDomainFree}). Use with
 * try-with-resources. Calls throw {@link LibvirtError}. Not thread-safe: one thread uses a handle.
 */
public final class DomainHandle implements AutoCloseable {

    /** {@code virDomainState}. */
    public static final int STATE_NOSTATE = 0;
    public static final int STATE_RUNNING = 1;
    public static final int STATE_BLOCKED = 2;
    public static final int STATE_PAUSED = 3;
    public static final int STATE_SHUTDOWN = 4;
    public static final int STATE_SHUTOFF = 5;
    public static final int STATE_CRASHED = 6;
    public static final int STATE_PMSUSPENDED = 7;

    private final LibvirtLibrary lib;
    private final String name;
    private final AtomicInteger openHandles;
    private Pointer ptr;

    DomainHandle(LibvirtLibrary lib, Pointer ptr, String name, AtomicInteger openHandles) {
        this.lib = lib;
        this.ptr = ptr;
        this.name = name;
        this.openHandles = openHandles;
        openHandles.incrementAndGet();
    }

    public String name() {
        return name;
    }

    public String uuid() {
        byte[] buf = new byte[37];
        check(lib.virDomainGetUUIDString(live(), buf), "virDomainGetUUIDString");
        return Native.toString(buf, "US-ASCII");
    }

    public void create() { check(lib.virDomainCreate(live()), "virDomainCreate"); }

    public void suspend() { check(lib.virDomainSuspend(live()), "virDomainSuspend"); }

    public void resume() { check(lib.virDomainResume(live()), "virDomainResume"); }

    public void shutdown() { check(lib.virDomainShutdown(live()), "virDomainShutdown"); }

    public void destroy() { check(lib.virDomainDestroy(live()), "virDomainDestroy"); }

    public void undefine(int flags) { check(lib.virDomainUndefineFlags(live(), flags), "virDomainUndefineFlags"); }

    public void setMemoryKiB(long kib, int flags) {
        check(lib.virDomainSetMemoryFlags(live(), new NativeLong(kib), flags), "virDomainSetMemoryFlags");
    }

    /** {@code virDomainGetState}: {state, reason}. */
    public int[] state() {
        int[] state = new int[1];
        int[] reason = new int[1];
        check(lib.virDomainGetState(live(), state, reason, 0), "virDomainGetState");
        return new int[] {state[0], reason[0]};
    }

    public VirDomainInfo info() {
        VirDomainInfo info = new VirDomainInfo();
        check(lib.virDomainGetInfo(live(), info), "virDomainGetInfo");
        info.read();
        return info;
    }

    public String xml() {
        Pointer p = lib.virDomainGetXMLDesc(live(), 0);
        if (p == null) {
            throw LibvirtError.last(lib, "virDomainGetXMLDesc(" + name + ")");
        }
        return takeString(p);
    }

    /** Our metadata element, or null when the domain has none in that namespace. */
    public String metadata(String namespaceUri) {
        Pointer p = lib.virDomainGetMetadata(live(), LibvirtLibrary.VIR_DOMAIN_METADATA_ELEMENT, namespaceUri, 0);
        if (p == null) {
            LibvirtError err = LibvirtError.last(lib, "virDomainGetMetadata(" + name + ")");
            if (err.code() == LibvirtError.VIR_ERR_NO_DOMAIN_METADATA) {
                return null;
            }
            throw err;
        }
        return takeString(p);
    }

    @Override
    public void close() {
        if (ptr != null) {
            lib.virDomainFree(ptr);
            ptr = null;
            openHandles.decrementAndGet();
        }
    }

    private Pointer live() {
        if (ptr == null) {
            throw new IllegalStateException("domain handle of " + name + " already freed");
        }
        return ptr;
    }

    private void check(int rc, String call) {
        if (rc < 0) {
            throw LibvirtError.last(lib, call + "(" + name + ")");
        }
    }

    /** Reads a malloc'd C string and frees it. */
    static String takeString(Pointer p) {
        try {
            return p.getString(0, "UTF-8");
        } finally {
            Native.free(Pointer.nativeValue(p));
        }
    }
}
