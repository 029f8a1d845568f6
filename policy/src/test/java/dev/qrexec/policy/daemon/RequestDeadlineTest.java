package dev.qrexec.policy.daemon;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestDeadlineTest {

    private static final long TIMEOUT = TimeUnit.MILLISECONDS.toNanos(150);

    /** A channel whose loop has a sweeper, as the server sets it up. */
    private static EmbeddedChannel channel() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel();
        EventLoop loop = ch.eventLoop();
        ch.pipeline().addLast(new RequestDeadline(Map.of(loop, new DeadlineSweeper(loop, TIMEOUT))));
        // Added after the channel became active: replay the event the server's pipeline would see.
        ch.pipeline().fireChannelActive();
        return ch;
    }

    private static DeadlineSweeper sweeperOf(Channel ch) {
        return ch.pipeline().get(RequestDeadline.class).sweeper();
    }

    @Test
    void silentConnectionIsClosedAfterTheTimeoutAndNotBefore() throws Exception {
        EmbeddedChannel ch = channel();
        DeadlineSweeper sweeper = sweeperOf(ch);
        assertEquals(1, sweeper.size());
        ch.runPendingTasks();
        assertTrue(ch.isOpen(), "closed before its deadline");
        long started = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
            ch.runScheduledPendingTasks();
            return !ch.isOpen();
        });
        assertTrue(System.nanoTime() - started >= TIMEOUT - TimeUnit.MILLISECONDS.toNanos(20), "closed too early");
        assertEquals(0, sweeper.size());
    }

    @Test
    void clientThatKeepsDribblingBytesIsStillClosedAtTheDeadline() throws Exception {
        // Unlike a read-idle timer, the deadline counts from accept: a slow drip cannot hold a connection.
        EmbeddedChannel ch = channel();
        DeadlineSweeper sweeper = sweeperOf(ch);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
            if (ch.isOpen()) {
                ch.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {'s'}));
            }
            ch.runScheduledPendingTasks();
            return !ch.isOpen();
        });
        io.netty.buffer.ByteBuf received;
        while ((received = ch.readInbound()) != null) {
            received.release();
        }
        assertEquals(0, sweeper.size());
    }

    @Test
    void closedConnectionLeavesTheListAndTheOthersKeepTheirOrder() {
        EmbeddedChannel ch = new EmbeddedChannel();
        EventLoop loop = ch.eventLoop();
        DeadlineSweeper sweeper = new DeadlineSweeper(loop, TIMEOUT);
        List<RequestDeadline> nodes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            RequestDeadline d = new RequestDeadline(Map.of(loop, sweeper));
            sweeper.add(d);
            nodes.add(d);
        }
        sweeper.remove(nodes.get(1)); // middle
        sweeper.remove(nodes.get(0)); // oldest
        sweeper.remove(nodes.get(3)); // newest
        sweeper.remove(nodes.get(3)); // twice: no effect
        assertEquals(1, sweeper.size());
        assertFalse(nodes.get(0).linked);
        assertTrue(nodes.get(2).linked);
        assertEquals(null, nodes.get(2).older);
        assertEquals(null, nodes.get(2).newer);
        sweeper.remove(nodes.get(2));
        assertEquals(0, sweeper.size());
        ch.close();
    }

    @Test
    void answeredConnectionStopsItsClock() throws Exception {
        EmbeddedChannel ch = channel();
        DeadlineSweeper sweeper = sweeperOf(ch);
        assertEquals(1, sweeper.size());
        ch.close();
        assertEquals(0, sweeper.size());
    }

    @Test
    void oneSweepExpiresEveryConnectionPastItsDeadline() throws Exception {
        EmbeddedChannel first = channel();
        DeadlineSweeper sweeper = sweeperOf(first);
        EventLoop loop = first.eventLoop();
        List<RequestDeadline> more = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            RequestDeadline d = new RequestDeadline(Map.of(loop, sweeper));
            first.pipeline().addLast(d); // gives the node a context to close
            sweeper.add(d);
            more.add(d);
        }
        assertEquals(101, sweeper.size());
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
            first.runScheduledPendingTasks();
            return sweeper.size() == 0;
        });
        assertFalse(first.isOpen());
        assertTrue(more.stream().noneMatch(d -> d.linked));
    }

    @Test
    void rejectsNonPositiveTimeout() {
        EmbeddedChannel ch = new EmbeddedChannel();
        assertEquals("timeoutNanos must be positive, was 0",
                assertThrows(IllegalArgumentException.class, () -> new DeadlineSweeper(ch.eventLoop(), 0)).getMessage());
    }
}
