package dev.qrexec.xen.sandbox;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cutting a console log that a writer keeps appending to. */
class ConsoleLogsTest {

    @TempDir
    Path dir;

    @Test
    void aLogPastTheCapKeepsItsLastQuarterAndTheWriterGoesOn() throws IOException {
        Path log = dir.resolve("console.log");
        try (FileOutputStream writer = new FileOutputStream(log.toFile(), true)) { // O_APPEND, as the qube's fd
            writer.write("a".repeat(3000).getBytes(StandardCharsets.US_ASCII));
            writer.write("b".repeat(1000).getBytes(StandardCharsets.US_ASCII));
            assertFalse(ConsoleLogs.rotateIfLarger(log, 4000), "at the cap, not past it");
            writer.write("c".getBytes(StandardCharsets.US_ASCII));
            assertTrue(ConsoleLogs.rotateIfLarger(log, 4000));
            assertEquals("b".repeat(999) + "c", Files.readString(dir.resolve("console.log.1")));
            assertEquals(0, Files.size(log));
            writer.write("after".getBytes(StandardCharsets.US_ASCII));
        }
        assertEquals("after", Files.readString(log), "the writer's next bytes land at the new end, no hole");
    }

    @Test
    void missingLogOrNoCapIsNothingToDo() throws IOException {
        assertFalse(ConsoleLogs.rotateIfLarger(dir.resolve("none.log"), 10));
        Files.writeString(dir.resolve("big.log"), "x".repeat(100));
        assertFalse(ConsoleLogs.rotateIfLarger(dir.resolve("big.log"), 0));
    }
}
