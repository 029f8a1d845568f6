package dev.qrexec.broker.wire;

/** Numeric constants of the wire protocol (spec qrexec-wire.md 2.3, 2.4 and 10.4). */
public final class WireLimits {

    /** Size of the frame header: type and length, two little-endian uint32. */
    public static final int HEADER_SIZE = 8;
    /** Largest data body at protocol version 2. */
    public static final int MAX_DATA_CHUNK_V2 = 4096;
    /** Largest data body at protocol version 3 and later. */
    public static final int MAX_DATA_CHUNK_V3 = 65536;
    /** Longest service name the C daemon accepts in TRIGGER_SERVICE3/4 (without the NUL). */
    public static final int MAX_SERVICE_NAME_LEN = 65000;
    /** Largest message body a local client may send to the daemon. */
    public static final int MAX_QREXEC_CMD_LEN = 65535;
    /**
     * Largest control-channel frame, header included. Agents create their control vchan with
     * 4 KiB rings; a bigger message blocks the agent forever (spec 10.4), so neither side may
     * send or accept one.
     */
    public static final int MAX_CONTROL_FRAME = 4096;

    /** Width of {@code service_params.ident} (the request id). */
    public static final int IDENT_SIZE = 32;
    /** Width of a domain-name field in trigger messages. */
    public static final int DOMAIN_NAME_SIZE = 64;
    /** Width of the service-name field in the version 2 trigger. */
    public static final int V2_SERVICE_NAME_SIZE = 64;

    /** The vchan port of the control channel. */
    public static final int CONTROL_PORT = 512;
    /** First data port. */
    public static final int FIRST_DATA_PORT = 513;
    /** Last data port (256 slots). */
    public static final int LAST_DATA_PORT = 768;

    /** Exit status for a qrexec-level failure. */
    public static final int EXIT_PROBLEM = 125;
    /** Exit status for a refused or invalid request. */
    public static final int EXIT_REQUEST_REFUSED = 126;
    /** Exit status when the target has no such service. */
    public static final int EXIT_SERVICE_NOT_FOUND = 127;

    private WireLimits() {
    }

    /** Largest data body allowed at a negotiated protocol version. */
    public static int maxDataChunk(int version) {
        return version >= 3 ? MAX_DATA_CHUNK_V3 : MAX_DATA_CHUNK_V2;
    }

    /** True if {@code port} is a data port (513..768). */
    public static boolean isDataPort(int port) {
        return port >= FIRST_DATA_PORT && port <= LAST_DATA_PORT;
    }
}
