package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One open {@code virConnectPtr}. Calls block (on a remote URI they are RPCs to libvirtd), so the
 * backend makes them only on its own operation threads. libvirt connections are thread-safe; the
 * wrapper adds no state besides the pointer. Calls throw {@link LibvirtError}.
 */
public final class LibvirtConnection implements AutoCloseable {

    private final LibvirtLibrary lib;
    private final String uri;
    private volatile Pointer conn;
    /** Domain handles not yet freed: a leak detector (must be 0 whenever no call is running). */
    private final AtomicInteger openHandles = new AtomicInteger();

    private LibvirtConnection(LibvirtLibrary lib, String uri, Pointer conn) {
        this.lib = lib;
        this.uri = uri;
        this.conn = conn;
    }

    /** Opens read-write; throws LibvirtError (e.g. no libvirtd socket) when it cannot. */
    public static LibvirtConnection open(LibvirtLibrary lib, String uri) {
        Pointer c = lib.virConnectOpen(uri);
        if (c == null) {
            throw LibvirtError.last(lib, "virConnectOpen(" + uri + ")");
        }
        return new LibvirtConnection(lib, uri, c);
    }

    public LibvirtLibrary library() {
        return lib;
    }

    public String uri() {
        return uri;
    }

    /** The domain of that name, or null when there is none. */
    public DomainHandle lookupByName(String name) {
        Pointer d = lib.virDomainLookupByName(live(), name);
        if (d == null) {
            return nullIfNoDomain("virDomainLookupByName(" + name + ")");
        }
        return new DomainHandle(lib, d, name, openHandles);
    }

    /** The domain of that UUID, or null when there is none. */
    public DomainHandle lookupByUuid(String uuid) {
        Pointer d = lib.virDomainLookupByUUIDString(live(), uuid);
        if (d == null) {
            return nullIfNoDomain("virDomainLookupByUUIDString(" + uuid + ")");
        }
        return new DomainHandle(lib, d, lib.virDomainGetName(d), openHandles);
    }

    public DomainHandle define(String name, String xml) {
        Pointer d = lib.virDomainDefineXML(live(), xml);
        if (d == null) {
            throw LibvirtError.last(lib, "virDomainDefineXML(" + name + ")");
        }
        return new DomainHandle(lib, d, name, openHandles);
    }

    /** Every domain, active or not; the caller closes each handle. */
    public List<DomainHandle> listAll() {
        PointerByReference ref = new PointerByReference();
        int n = lib.virConnectListAllDomains(live(), ref, 0);
        if (n < 0) {
            throw LibvirtError.last(lib, "virConnectListAllDomains");
        }
        Pointer array = ref.getValue();
        List<DomainHandle> out = new ArrayList<>(n);
        if (array == null) {
            return out;
        }
        try {
            for (Pointer d : array.getPointerArray(0, n)) {
                out.add(new DomainHandle(lib, d, lib.virDomainGetName(d), openHandles));
            }
        } finally {
            Native.free(Pointer.nativeValue(array));
        }
        return out;
    }

    public VirNodeInfo nodeInfo() {
        VirNodeInfo info = new VirNodeInfo();
        if (lib.virNodeGetInfo(live(), info) < 0) {
            throw LibvirtError.last(lib, "virNodeGetInfo");
        }
        info.read();
        return info;
    }

    /** Bytes free on the host (real on Xen and KVM; a fixed figure in the test driver). */
    public long freeMemoryBytes() {
        lib.virResetLastError();
        long free = lib.virNodeGetFreeMemory(live());
        if (free == 0 && lib.virGetLastError() != null) {
            throw LibvirtError.last(lib, "virNodeGetFreeMemory");
        }
        return free;
    }

    /** Registers for life-cycle events of every domain; the callback must stay strongly referenced. */
    public int registerLifecycle(LibvirtLibrary.LifecycleCallback callback) {
        int id = lib.virConnectDomainEventRegisterAny(live(), null, LibvirtLibrary.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                callback, null, null);
        if (id < 0) {
            throw LibvirtError.last(lib, "virConnectDomainEventRegisterAny(LIFECYCLE)");
        }
        return id;
    }

    public void deregister(int callbackId) {
        if (lib.virConnectDomainEventDeregisterAny(live(), callbackId) < 0) {
            throw LibvirtError.last(lib, "virConnectDomainEventDeregisterAny");
        }
    }

    /** Domain handles opened and not yet closed. */
    public int openDomainHandles() {
        return openHandles.get();
    }

    /**
     * Closes the connection. libvirt frees it once its last reference goes: an event being
     * dispatched right now may hold one for a moment; a domain handle we forgot would hold one forever.
     */
    @Override
    public void close() {
        Pointer c = conn;
        conn = null;
        if (c != null) {
            int leaked = openHandles.get();
            if (leaked > 0) {
                System.getLogger(LibvirtConnection.class.getName()).log(System.Logger.Level.WARNING,
                        "closing libvirt connection {0} with {1} domain handles not freed", uri, leaked);
            }
            lib.virConnectClose(c);
        }
    }

    private Pointer live() {
        Pointer c = conn;
        if (c == null) {
            throw new IllegalStateException("libvirt connection to " + uri + " is closed");
        }
        return c;
    }

    private DomainHandle nullIfNoDomain(String call) {
        LibvirtError err = LibvirtError.last(lib, call);
        if (err.code() == LibvirtError.VIR_ERR_NO_DOMAIN) {
            return null;
        }
        throw err;
    }
}
