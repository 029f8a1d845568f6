package dev.qrexec.broker.daemon;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a qube's agent listens: its name, its domain id and the directory holding its vchan
 * sockets. Several qubes may share one directory (foreign agents, spec item 9); the domain id in
 * the socket names keeps them apart.
 */
public record AgentAddress(String name, int domainId, Path socketDir) {

    public AgentAddress {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(socketDir, "socketDir");
        if (name.isEmpty() || name.equals("dom0") || name.startsWith("@")) {
            throw new IllegalArgumentException("invalid qube name '" + name + "'");
        }
        if (domainId <= 0) {
            throw new IllegalArgumentException("domain id of " + name + " must be > 0, got " + domainId);
        }
    }

    /** The agent's control socket. */
    public Path controlSocket() {
        return VchanSockets.controlSocket(socketDir, domainId);
    }
}
