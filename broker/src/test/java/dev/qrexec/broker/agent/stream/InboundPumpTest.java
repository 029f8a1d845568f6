package dev.qrexec.broker.agent.stream;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue between an event loop and a blocking sink turns auto-read off and on at its marks. */
class InboundPumpTest {

    @Test
    void autoReadFollowsTheWaterMarks() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel();
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        OutputStream slowSink = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                got.write(b, off, len);
            }
        };
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            InboundPump pump = new InboundPump("test", ch, 100, 50, 1000).start(pool, slowSink);
            // 150 bytes: even with one chunk taken by the (blocked) copying thread, over 100 stay queued.
            for (int i = 0; i < 15; i++) {
                assertTrue(pump.offer(Unpooled.wrappedBuffer(new byte[10])));
            }
            assertFalse(ch.config().isAutoRead(), "over 100 bytes queued: stop reading");
            assertFalse(pump.offer(Unpooled.wrappedBuffer(new byte[1000])), "past the hard limit");
            release.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                ch.runPendingTasks();
                return ch.config().isAutoRead();
            });
            pump.finish();
            pump.done().get();
            assertEquals(150, got.size());
            assertTrue(pump.maxQueuedBytes() <= 150);
        } finally {
            pool.shutdownNow();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void brokenSinkIsDrainedNotStalled() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            OutputStream broken = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    throw new IOException("EPIPE");
                }
            };
            InboundPump pump = new InboundPump("test", ch, 100, 50, 1000).start(pool, broken);
            for (int i = 0; i < 50; i++) {
                pump.offer(Unpooled.wrappedBuffer(new byte[10]));
            }
            pump.finish();
            pump.done().get();
            ch.runPendingTasks();
            assertTrue(ch.config().isAutoRead(), "input nobody reads is discarded, the peer is never stalled");
        } finally {
            pool.shutdownNow();
            ch.finishAndReleaseAll();
        }
    }
}
