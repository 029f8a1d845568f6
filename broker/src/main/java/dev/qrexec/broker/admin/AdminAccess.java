package dev.qrexec.broker.admin;

import io.netty.channel.unix.PeerCredentials;

import java.util.Arrays;
import java.util.Set;

/**
 * Who may use the admin socket, judged from the peer's SO_PEERCRED: root, the socket's owner uid,
 * or a process whose group id is one of {@code groups}. SO_PEERCRED carries only the peer's primary
 * group (Netty's {@code gids()} has one entry on Linux), so a configured group must be the caller's
 * primary group; supplementary groups are not seen.
 */
public record AdminAccess(int ownerUid, Set<Integer> groups) {

    public AdminAccess {
        groups = Set.copyOf(groups);
    }

    /** Root and the current user. */
    public static AdminAccess ownerOnly() {
        return new AdminAccess(currentUid(), Set.of());
    }

    public boolean allows(PeerCredentials peer) {
        if (peer.uid() == 0 || peer.uid() == ownerUid) {
            return true;
        }
        return Arrays.stream(peer.gids()).anyMatch(groups::contains);
    }

    static int currentUid() {
        try {
            Object uid = java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid");
            return (Integer) uid;
        } catch (java.io.IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot determine own uid from /proc/self", e);
        }
    }
}
