package dev.qrexec.xen.transport;

import java.io.IOException;

/**
 * A vchan could not be opened: nobody listened in time, or the socket could not be used at all.
 * The message names the socket path and what was tried.
 */
public class VchanConnectException extends IOException {

    private static final long serialVersionUID = 1L;

    private final VchanAddress address;

    public VchanConnectException(VchanAddress address, String message, Throwable cause) {
        super(message, cause);
        this.address = address;
    }

    public VchanAddress address() {
        return address;
    }

    /** Nobody listened on the socket before the timeout (the peer is not up, or never will be). */
    public static final class Timeout extends VchanConnectException {
        private static final long serialVersionUID = 1L;

        public Timeout(VchanAddress address, String message, Throwable cause) {
            super(address, message, cause);
        }
    }
}
