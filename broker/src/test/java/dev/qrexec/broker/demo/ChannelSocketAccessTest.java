package dev.qrexec.broker.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class ChannelSocketAccessTest {

    @Test
    void aSocketBoundInASharedDirectoryIsGroupWritableAndOfTheDirectorysGroupAndTheUmaskComesBack(
            @TempDir Path dir) throws Exception {
        int before = ChannelSocketAccess.currentUmask();
        Files.setAttribute(dir, "unix:gid", 4242, LinkOption.NOFOLLOW_LINKS);
        try (ChannelSocketAccess access = new ChannelSocketAccess();
             ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            assertEquals(before & ~020, ChannelSocketAccess.currentUmask());
            access.share(dir);
            assertEquals(02700, (int) Files.getAttribute(dir, "unix:mode") & 07777);
            Path socket = dir.resolve("vchan.0.7.513.sock");
            listener.bind(UnixDomainSocketAddress.of(socket));
            assertEquals(4242, Files.getAttribute(socket, "unix:gid"));
            assertTrue(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)).charAt(4) == 'w',
                    "group may write (connect)");
            assertFalse(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)).charAt(7) == 'w',
                    "others may not");
        }
        assertEquals(before, ChannelSocketAccess.currentUmask());
    }
}
