package dev.qrexec.xen.libvirt.binding;

/**
 * A libvirt call failed: the call, and libvirt's own error code, error domain and message (read
 * from the calling thread's {@code virGetLastError}). The backend maps it to a
 * {@link dev.qrexec.xen.HypervisorException} and keeps it as the cause.
 */
public final class LibvirtError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** {@code virErrorNumber} values the backend tells apart. */
    public static final int VIR_ERR_INTERNAL_ERROR = 1;
    public static final int VIR_ERR_NO_SUPPORT = 3;
    public static final int VIR_ERR_NO_CONNECT = 5;
    public static final int VIR_ERR_INVALID_ARG = 8;
    public static final int VIR_ERR_OPERATION_FAILED = 9;
    public static final int VIR_ERR_XML_ERROR = 27;
    public static final int VIR_ERR_DOM_EXIST = 28;
    public static final int VIR_ERR_XML_DETAIL = 35;
    public static final int VIR_ERR_SYSTEM_ERROR = 38;
    public static final int VIR_ERR_NO_DOMAIN = 42;
    public static final int VIR_ERR_AUTH_FAILED = 45;
    public static final int VIR_ERR_OPERATION_INVALID = 55;
    public static final int VIR_ERR_CONFIG_UNSUPPORTED = 67;
    public static final int VIR_ERR_OPERATION_TIMEOUT = 68;
    public static final int VIR_ERR_NO_DOMAIN_METADATA = 80;

    private final String call;
    private final int code;
    private final int errorDomain;
    private final String libvirtMessage;

    public LibvirtError(String call, int code, int errorDomain, String libvirtMessage) {
        super(call + " failed: " + libvirtMessage + " (libvirt error " + code + ", from " + errorDomain + ")");
        this.call = call;
        this.code = code;
        this.errorDomain = errorDomain;
        this.libvirtMessage = libvirtMessage;
    }

    /**
     * The error the failed call left on this thread. Must run on the thread that made the call,
     * right after it: libvirt keeps the last error per thread.
     */
    public static LibvirtError last(LibvirtLibrary lib, String call) {
        VirError err = lib.virGetLastError();
        if (err == null) {
            return new LibvirtError(call, 0, 0, "libvirt reported no error detail");
        }
        String message = err.message == null ? "no message" : err.message;
        return new LibvirtError(call, err.code, err.domain, message);
    }

    /** The libvirt function that failed, with its main argument: {@code virDomainCreate(work)}. */
    public String call() { return call; }

    /** {@code virErrorNumber}. */
    public int code() { return code; }

    /** {@code virErrorDomain}: which part of libvirt raised it. */
    public int errorDomain() { return errorDomain; }

    /** libvirt's message, verbatim. */
    public String libvirtMessage() { return libvirtMessage; }
}
