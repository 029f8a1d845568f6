package dev.qrexec.policy.reload;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryWatcherTest {

    private static final Duration QUIET = Duration.ofMillis(100);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private final AtomicInteger changes = new AtomicInteger();
    private DirectoryWatcher watcher;

    @AfterEach
    void close() {
        if (watcher != null) {
            watcher.close();
        }
    }

    private void watch(Path... targets) throws IOException {
        watcher = DirectoryWatcher.start("test", List.of(targets), QUIET, Duration.ofSeconds(1), changes::incrementAndGet);
    }

    private void awaitChange(int before) {
        await().atMost(WAIT).until(() -> changes.get() > before);
    }

    private void awaitNoChange(int before) {
        await().during(Duration.ofMillis(400)).atMost(WAIT).until(() -> changes.get() == before);
    }

    @Test
    void reportsFileCreatedModifiedAndDeleted() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        watch(dir);
        int c = changes.get();
        Files.writeString(dir.resolve("30-user.policy"), "* * @anyvm @anyvm deny\n");
        awaitChange(c);
        c = changes.get();
        Files.writeString(dir.resolve("30-user.policy"), "* * @anyvm @anyvm allow\n");
        awaitChange(c);
        c = changes.get();
        Files.delete(dir.resolve("30-user.policy"));
        awaitChange(c);
    }

    @Test
    void watchesSubdirectoriesIncludingNewOnes() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        Files.createDirectory(dir.resolve("include"));
        watch(dir);
        int c = changes.get();
        Files.writeString(dir.resolve("include/admin-policy-rwx"), "x\n");
        awaitChange(c);

        c = changes.get();
        Path deep = Files.createDirectories(dir.resolve("include/new/deeper"));
        awaitChange(c);
        c = changes.get();
        Files.writeString(deep.resolve("f"), "x\n");
        awaitChange(c);
    }

    @Test
    void picksUpADirectoryCreatedAfterStart() throws IOException {
        Path dir = tmp.resolve("run-policy.d");
        watch(dir);
        int c = changes.get();
        Files.createDirectory(dir);
        awaitChange(c);
        c = changes.get();
        Files.writeString(dir.resolve("10-x.policy"), "x\n");
        awaitChange(c);
    }

    @Test
    void aWatchedFileIgnoresItsNeighbours() throws IOException {
        Path file = tmp.resolve("system-info.json");
        Files.writeString(file, "{}");
        watch(file);
        int c = changes.get();
        Files.writeString(tmp.resolve("unrelated.txt"), "x");
        awaitNoChange(c);
        Files.writeString(file, "{\"domains\":{}}");
        awaitChange(c);
    }

    @Test
    void aFileReplacedByRenameIsReported() throws IOException {
        Path file = tmp.resolve("system-info.json");
        Files.writeString(file, "{}");
        watch(file);
        int c = changes.get();
        Path temp = Files.writeString(tmp.resolve(".system-info.json.tmp"), "{\"domains\":{}}");
        Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        awaitChange(c);
    }

    @Test
    void aBurstOfWritesIsOneCallback() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        watch(dir);
        int c = changes.get();
        for (int i = 0; i < 30; i++) {
            Files.writeString(dir.resolve(String.format("%02d-f.policy", i)), "x\n");
        }
        awaitChange(c);
        awaitNoChange(changes.get());
        assertTrue(changes.get() - c <= 2, "30 writes caused " + (changes.get() - c) + " callbacks");
    }

    @Test
    void validatesItsArguments() {
        assertEquals("nothing to watch: targets is empty", assertThrows(IllegalArgumentException.class,
                () -> DirectoryWatcher.start("x", List.of(), QUIET, QUIET, () -> { })).getMessage());
        assertEquals("quietPeriod must be positive, was PT0S", assertThrows(IllegalArgumentException.class,
                () -> DirectoryWatcher.start("x", List.of(tmp), Duration.ZERO, QUIET, () -> { })).getMessage());
        assertEquals("maxDelay (PT0.05S) must not be shorter than quietPeriod (PT0.1S)",
                assertThrows(IllegalArgumentException.class, () -> DirectoryWatcher.start("x", List.of(tmp), QUIET,
                        Duration.ofMillis(50), () -> { })).getMessage());
    }
}
