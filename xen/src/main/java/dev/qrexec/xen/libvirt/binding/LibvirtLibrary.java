package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of {@code libvirt.so.0} this backend calls, mapped with JNA. Every function here is part
 * of libvirt's stable public ABI (present since libvirt 1.x at the latest).
 *
 * <p>Ownership rules the callers follow: every {@code virDomainPtr} a function returns is freed
 * with {@link #virDomainFree}; strings returned as {@link Pointer} are the caller's and are freed
 * with {@code free(3)} ({@code Native.free}); the {@code virDomainPtr} passed to an event callback
 * belongs to libvirt and is never freed by us.
 */
public interface LibvirtLibrary extends Library {

    // --- connection ---
    Pointer virConnectOpen(String uri);
    int virConnectClose(Pointer conn);
    int virConnectListAllDomains(Pointer conn, PointerByReference domains, int flags);

    // --- domains ---
    Pointer virDomainLookupByName(Pointer conn, String name);
    Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);
    Pointer virDomainDefineXML(Pointer conn, String xml);
    int virDomainUndefineFlags(Pointer dom, int flags);
    int virDomainCreate(Pointer dom);
    int virDomainSuspend(Pointer dom);
    int virDomainResume(Pointer dom);
    int virDomainShutdown(Pointer dom);
    int virDomainDestroy(Pointer dom);
    int virDomainFree(Pointer dom);
    /** Static string owned by the domain object (do not free). */
    String virDomainGetName(Pointer dom);
    int virDomainGetUUIDString(Pointer dom, byte[] buf);
    int virDomainGetState(Pointer dom, int[] state, int[] reason, int flags);
    int virDomainGetInfo(Pointer dom, VirDomainInfo info);
    /** Returns a malloc'd string. */
    Pointer virDomainGetXMLDesc(Pointer dom, int flags);
    /** Returns a malloc'd string; fails with VIR_ERR_NO_DOMAIN_METADATA when the element is absent. */
    Pointer virDomainGetMetadata(Pointer dom, int type, String uri, int flags);
    int virDomainSetMemoryFlags(Pointer dom, NativeLong memoryKiB, int flags);

    // --- host ---
    int virNodeGetInfo(Pointer conn, VirNodeInfo info);
    long virNodeGetFreeMemory(Pointer conn);

    // --- events ---
    int virEventRegisterDefaultImpl();
    int virEventRunDefaultImpl();
    int virEventAddTimeout(int frequencyMs, TimeoutCallback cb, Pointer opaque, Pointer freeCallback);
    int virEventRemoveTimeout(int timer);
    int virConnectDomainEventRegisterAny(Pointer conn, Pointer dom, int eventId,
                                         LifecycleCallback cb, Pointer opaque, Pointer freeCallback);
    int virConnectDomainEventDeregisterAny(Pointer conn, int callbackId);

    // --- errors ---
    /** Thread-local last error, owned by libvirt; null when there is none. */
    VirError virGetLastError();
    void virResetLastError();
    void virSetErrorFunc(Pointer userData, ErrorCallback handler);

    /** {@code virConnectDomainEventLifecycleCallback}. */
    interface LifecycleCallback extends Callback {
        int invoke(Pointer conn, Pointer dom, int event, int detail, Pointer opaque);
    }

    /** {@code virEventTimeoutCallback}. */
    interface TimeoutCallback extends Callback {
        void invoke(int timer, Pointer opaque);
    }

    /** {@code virErrorFunc}. */
    interface ErrorCallback extends Callback {
        void invoke(Pointer userData, Pointer error);
    }

    int VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0;
    int VIR_DOMAIN_METADATA_ELEMENT = 2;
    int VIR_DOMAIN_AFFECT_CURRENT = 0;
    int VIR_DOMAIN_AFFECT_LIVE = 1;
    int VIR_DOMAIN_AFFECT_CONFIG = 2;
    int VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1;
    int VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA = 2;
    int VIR_DOMAIN_UNDEFINE_NVRAM = 4;
}
