package dev.qrexec.broker.agent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BoundedPipeTest {

    @Test
    void writerBlocksWhenFullAndReaderSeesEofAfterDrain() throws Exception {
        BoundedPipe pipe = new BoundedPipe(4);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                pipe.output().write("abcdefgh".getBytes());
                pipe.output().close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        await().atMost(java.time.Duration.ofSeconds(5)).until(() -> pipe.input().available() == 4);
        assertFalse(writer.isDone(), "4 bytes fit, the writer waits for the rest");
        assertArrayEquals("abcdefgh".getBytes(), pipe.input().readAllBytes());
        writer.get(5, TimeUnit.SECONDS);
        assertEquals(-1, pipe.input().read());
    }

    @Test
    void closedReaderFailsTheWriter() {
        BoundedPipe pipe = new BoundedPipe(2);
        pipe.input().close();
        assertThrows(IOException.class, () -> pipe.output().write(1));
        assertThrows(IllegalArgumentException.class, () -> new BoundedPipe(0));
    }
}
