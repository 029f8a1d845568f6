package dev.qrexec.xen.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelDirectoriesTest {

    @TempDir
    Path tmp;

    @Test
    void makesAPrivateDirectoryPerQubeAndRemovesIt() throws Exception {
        ChannelDirectories dirs = new ChannelDirectories(tmp.resolve("ch"));
        Path work = dirs.create("work");
        assertEquals(tmp.resolve("ch/work"), work);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(work)));
        Files.createFile(work.resolve("vchan.0.5.513.sock"));
        assertEquals(work, dirs.create("work"), "making it again keeps it and its sockets");
        assertTrue(Files.exists(work.resolve("vchan.0.5.513.sock")));
        dirs.remove("work");
        assertFalse(Files.exists(work));
        dirs.remove("work"); // absent: nothing to do
    }

    @Test
    void takesTheModeItIsGiven() throws Exception {
        ChannelDirectories dirs = new ChannelDirectories(tmp, PosixFilePermissions.fromString("rwxrwx---"));
        assertEquals("rwxrwx---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dirs.create("a"))));
    }

    @Test
    void refusesNamesThatWouldEscapeTheBase() {
        ChannelDirectories dirs = new ChannelDirectories(tmp);
        assertThrows(IllegalArgumentException.class, () -> dirs.of(".."));
        assertThrows(IllegalArgumentException.class, () -> dirs.of("a/b"));
        assertThrows(IllegalArgumentException.class, () -> dirs.create(""));
    }

    @Test
    void refusesSomethingElseInTheWay() throws Exception {
        ChannelDirectories dirs = new ChannelDirectories(tmp);
        Files.createSymbolicLink(tmp.resolve("evil"), Path.of("/etc"));
        UncheckedIOException error = assertThrows(UncheckedIOException.class, () -> dirs.create("evil"));
        assertTrue(error.getMessage().contains("is not a directory"), error.getMessage());
    }

    @Test
    void refusesABaseTooLongForSocketPaths() {
        Path deep = Path.of("/tmp/" + "d".repeat(40));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new ChannelDirectories(deep));
        assertTrue(error.getMessage().startsWith("channel base directory " + deep + " is too long"), error.getMessage());
    }
}
