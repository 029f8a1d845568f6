package dev.qrexec.dispvm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.dispvm.registry.Features;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A preload is handed out once its use is in the registry, without waiting for the store's fsync;
 * the use still reaches the disk. The store's temp file is replaced by a FIFO, so the writer thread
 * blocks in {@code open(2)} like a disk that does not answer, until the test reads from it.
 */
class DeliveryWithoutFsyncTest {

    @TempDir
    Path dir;
    Fixture f;

    @BeforeEach
    void setUp() {
        f = new Fixture(dir).withTemplates();
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void aStuckStoreWriteDoesNotDelayTheCallerAndTheUseStillReachesTheDisk() throws Exception {
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "1");
        f.awaitReady("dvm", 1);
        String name = f.queue("dvm").get(0);
        Path tmp = f.storeDir.resolve("qubes.json.tmp");
        Process mkfifo = new ProcessBuilder("mkfifo", tmp.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo");

        // The writer is now stuck opening the FIFO for the use step's write; the caller is not.
        Disposable d = f.manager.obtain("dvm", "work").get(5, TimeUnit.SECONDS);
        assertEquals(name, d.name());
        assertTrue(d.preloaded());
        assertTrue(f.manager.snapshot().get(name).tags().contains("created-by-work"));
        assertTrue(Files.exists(tmp), "the write has not happened yet");

        // The disk answers: opening the FIFO for reading releases the writer, and with a reader open
        // no later open of the path blocks; once the path is gone, the next write is a normal file.
        // The stuck write itself fails (fsync of a pipe); the next one carries the use to the disk.
        CompletableFuture<Void> drain;
        try (InputStream in = Files.newInputStream(tmp)) {
            Files.delete(tmp);
            drain = CompletableFuture.runAsync(() -> {
                try {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            drain.get(10, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            JsonNode stored = storedQube(name);
            return stored != null && stored.path("tags").toString().contains("created-by-work")
                    && !stored.path("features").has(Features.PRELOAD_IN_PROGRESS);
        });
        f.manager.release(d.name()).join();
    }

    /** The qube as the store file on disk has it, or null. */
    private JsonNode storedQube(String name) throws Exception {
        Path file = f.storeDir.resolve("qubes.json");
        if (!Files.exists(file)) {
            return null;
        }
        for (JsonNode q : new ObjectMapper().readTree(file.toFile()).path("qubes")) {
            if (q.path("name").asText().equals(name)) {
                return q;
            }
        }
        return null;
    }
}
