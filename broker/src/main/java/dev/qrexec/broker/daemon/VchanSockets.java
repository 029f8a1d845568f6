package dev.qrexec.broker.daemon;

import java.nio.file.Path;

/**
 * Socket names of the vchan-socket transport (spec qrexec-wire.md 10.1):
 * {@code vchan.<server_domain>.<client_domain>.<port>.sock} in a qube's socket directory.
 */
public final class VchanSockets {

    private VchanSockets() {
    }

    public static Path path(Path dir, int serverDomain, int clientDomain, int port) {
        return dir.resolve("vchan." + Integer.toUnsignedString(serverDomain) + "."
                + Integer.toUnsignedString(clientDomain) + "." + port + ".sock");
    }

    /** Where the agent of {@code domain} listens for the daemon's control connection. */
    public static Path controlSocket(Path dir, int domain) {
        return path(dir, domain, 0, dev.qrexec.broker.wire.WireLimits.CONTROL_PORT);
    }
}
