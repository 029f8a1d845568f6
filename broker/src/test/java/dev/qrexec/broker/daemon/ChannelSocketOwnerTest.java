package dev.qrexec.broker.daemon;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class ChannelSocketOwnerTest {

    private static final int QUBE_UID = 4242;
    private static final int QUBE_GID = 4343;

    private static boolean root() throws IOException {
        return (int) Files.getAttribute(Files.createTempFile("uid", ""), "unix:uid") == 0;
    }

    /** A channel directory as the sandbox makes it: the qube's, mode 0700. */
    private static Path qubeDir(Path tmp) throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("ch"));
        Files.setAttribute(dir, "unix:uid", QUBE_UID);
        Files.setAttribute(dir, "unix:gid", QUBE_GID);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    @Test
    void aBoundSocketBecomesTheDirectoryOwnersWithMode0600(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(root(), "chown needs root");
        Path dir = qubeDir(tmp);
        Path socket = dir.resolve("vchan.0.7.513.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            assertEquals(0, Files.getAttribute(socket, "unix:uid"), "root binds it as root");
            ChannelSocketOwner.grantToDirectoryOwner(socket);
            assertEquals(QUBE_UID, Files.getAttribute(socket, "unix:uid"));
            assertEquals(QUBE_GID, Files.getAttribute(socket, "unix:gid"));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
    }

    @Test
    void aSymlinkPutInPlaceOfTheSocketIsRefusedAndItsTargetUntouched(@TempDir Path tmp) throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "secret");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r-----"));
        Object owner = Files.getAttribute(victim, "unix:uid");
        Path dir = Files.createDirectory(tmp.resolve("ch"));
        Path link = Files.createSymbolicLink(dir.resolve("vchan.0.7.514.sock"), victim);
        assertThrows(IOException.class, () -> ChannelSocketOwner.grantToDirectoryOwner(link));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(victim)));
        assertEquals(owner, Files.getAttribute(victim, "unix:uid"));
        assertTrue(Files.isSymbolicLink(link));
    }

    @Test
    void aRegularFileInPlaceOfTheSocketIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("ch"));
        Path file = Files.writeString(dir.resolve("vchan.0.7.515.sock"), "not a socket");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        IOException e = assertThrows(IOException.class, () -> ChannelSocketOwner.grantToDirectoryOwner(file));
        assertTrue(e.getMessage().contains("no longer the socket"), e.getMessage());
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void publishHandsOverThenRenamesIntoPlace(@TempDir Path tmp) throws Exception {
        Path dir = root() ? qubeDir(tmp) : Files.createDirectory(tmp.resolve("ch"));
        Path staging = Files.createDirectory(dir.resolve(".b"));
        Path staged = staging.resolve("vchan.0.7.516.sock");
        Path destination = dir.resolve("vchan.0.7.516.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(staged));
            ChannelSocketOwner.publish(staged, destination);
            assertFalse(Files.exists(staged, LinkOption.NOFOLLOW_LINKS));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(destination)));
            assertEquals(Files.getAttribute(dir, "unix:uid"), Files.getAttribute(destination, "unix:uid"));
            // Still the bound socket under its new name.
            try (var client = java.nio.channels.SocketChannel.open(UnixDomainSocketAddress.of(destination))) {
                assertTrue(client.isConnected());
            }
        }
    }
}
