package dev.qrexec.broker.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LeftoversTest {

    @Test
    void socketsUnderTheStateDirectoryAreFoundAndOrdinaryFilesAreNot(@TempDir Path dir) throws Exception {
        Path sub = Files.createDirectories(dir.resolve("ch/work"));
        Files.writeString(sub.resolve("console.log"), "x");
        assertEquals(List.of(), Leftovers.sockets(dir));
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(sub.resolve("vchan.5.0.512.sock")));
            assertEquals(List.of("socket " + sub.resolve("vchan.5.0.512.sock")), Leftovers.sockets(dir));
        }
    }

    @Test
    void instanceCgroupsAreFoundInEveryHierarchyAndOthersAreIgnored(@TempDir Path root) throws Exception {
        Files.createDirectories(root.resolve("memory/qrexec.qd1-1"));
        Files.createDirectories(root.resolve("freezer/qrexec.other"));
        Files.createDirectories(root.resolve("qrexec.qd1-1"));
        List<String> found = Leftovers.cgroups(root, "qrexec.qd1-1");
        assertEquals(2, found.size(), found.toString());
        assertTrue(found.contains("cgroup " + root.resolve("memory/qrexec.qd1-1")));
        assertTrue(found.contains("cgroup " + root.resolve("qrexec.qd1-1")));
    }

    @Test
    void aTemporaryDirectoryHasNoMountUnderIt(@TempDir Path dir) {
        assertEquals(List.of(), Leftovers.mounts(dir));
        assertFalse(Leftovers.mounts(Path.of("/proc")).isEmpty(), "/proc is a mount point");
    }

    @Test
    void deleteTreeRemovesSymlinksWithoutFollowingThem(@TempDir Path tmp) throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "host file");
        Path state = Files.createDirectories(tmp.resolve("state/root"));
        Files.createSymbolicLink(state.resolve("usr"), outside);
        Leftovers.deleteTree(tmp.resolve("state"));
        assertFalse(Files.exists(tmp.resolve("state")));
        assertEquals("host file", Files.readString(outside.resolve("keep")));
    }
}
