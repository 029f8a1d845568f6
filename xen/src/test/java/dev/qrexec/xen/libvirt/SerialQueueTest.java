package dev.qrexec.xen.libvirt;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SerialQueueTest {

    @Test
    void tasksRunOneAtATimeInOrderOnAWiderPool() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            SerialQueue queue = new SerialQueue(pool, 1000);
            List<Integer> order = new ArrayList<>();
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            for (int i = 0; i < 200; i++) {
                int n = i;
                assertTrue(queue.offer(task(() -> {
                    maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    synchronized (order) {
                        order.add(n);
                    }
                    running.decrementAndGet();
                })));
            }
            await().until(() -> {
                synchronized (order) {
                    return order.size() == 200;
                }
            });
            assertEquals(1, maxRunning.get());
            for (int i = 0; i < 200; i++) {
                assertEquals(i, order.get(i));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesBeyondItsCapacity() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        CountDownLatch release = new CountDownLatch(1);
        try {
            SerialQueue queue = new SerialQueue(pool, 2);
            assertTrue(queue.offer(task(() -> awaitLatch(release))));
            await().until(() -> queue.waiting() == 0);  // the first is running
            assertTrue(queue.offer(task(() -> { })));
            assertTrue(queue.offer(task(() -> { })));
            assertFalse(queue.offer(task(() -> { })), "third waiting task is refused");
            release.countDown();
            await().until(() -> queue.waiting() == 0);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyTaskOfAClosedPoolIsRejectedNotLost() {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        pool.shutdown();
        SerialQueue queue = new SerialQueue(pool, 10);
        AtomicInteger rejected = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            queue.offer(new SerialQueue.Task() {
                @Override
                public void run() {
                    throw new AssertionError("must not run");
                }

                @Override
                public void reject(RejectedExecutionException cause) {
                    rejected.incrementAndGet();
                }
            });
        }
        assertEquals(3, rejected.get());
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static SerialQueue.Task task(Runnable r) {
        return new SerialQueue.Task() {
            @Override
            public void run() {
                r.run();
            }

            @Override
            public void reject(RejectedExecutionException cause) {
                throw new AssertionError(cause);
            }
        };
    }
}
