package dev.qrexec.broker.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class SystemLayoutTest {

    @Test
    void aStateDirectoryWhoseSocketsWouldNotFitIsRefusedWithTheLimit() {
        Path longDir = Path.of("/tmp/" + "d".repeat(60));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SystemLayout(longDir));
        assertTrue(e.getMessage().contains("106"), e.getMessage());
        assertTrue(e.getMessage().contains("--state-dir"), e.getMessage());
    }

    @Test
    void pathsAreUnderTheStateDirectory() {
        SystemLayout l = new SystemLayout(Path.of("/tmp/qd"));
        assertEquals(Path.of("/tmp/qd/ch/work"), l.channelDir("work"));
        assertEquals(Path.of("/tmp/qd/p/work"), l.privateDir("work"));
        assertEquals(Path.of("/tmp/qd/run"), l.socketDir());
        assertEquals(Path.of("/tmp/qd/policy.d"), l.policyDir());
    }

    @Test
    void createMakesTheWayToQubeFilesSearchableAndRefusesAClosedParent(@TempDir Path tmp) throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("x"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx------"));
        SystemLayout closed = new SystemLayout(parent.resolve("s"));
        java.io.IOException e = assertThrows(java.io.IOException.class, closed::create);
        assertTrue(e.getMessage().contains("chmod o+x " + parent), e.getMessage());

        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx--x--x"));
        closed.create();
        assertEquals("rwx--x--x", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(closed.stateDir().resolve("ch"))));
    }
}
