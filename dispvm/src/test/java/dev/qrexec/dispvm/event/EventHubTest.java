package dev.qrexec.dispvm.event;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventHubTest {

    @Test
    void aSlowListenerLosesTheOldestEventsNotTheManagersTime() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            EventHub hub = new EventHub(4, ex);
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch inside = new CountDownLatch(1);
            List<String> got = new CopyOnWriteArrayList<>();
            hub.subscribe(e -> {
                inside.countDown();
                try {
                    gate.await();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                got.add(e.qube());
            });
            hub.publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, "q0", "", ""));
            assertTrue(inside.await(5, java.util.concurrent.TimeUnit.SECONDS));
            for (int i = 1; i < 20; i++) {
                hub.publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, "q" + i, "", ""));
            }
            gate.countDown();
            await().atMost(Duration.ofSeconds(5)).until(() -> got.size() >= 5);
            // The first event was taken before the gate; of the rest only the newest 4 were kept, in order.
            assertEquals(List.of("q0", "q16", "q17", "q18", "q19"), got);
            assertTrue(hub.dropped() >= 15);
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void aFailingListenerDoesNotStopTheOthersAndCapacityIsValidated() throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            EventHub hub = new EventHub(16, ex);
            List<String> got = new CopyOnWriteArrayList<>();
            hub.subscribe(e -> {
                throw new IllegalStateException("listener bug");
            });
            AutoCloseable sub = hub.subscribe(e -> got.add(e.qube()));
            hub.publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, "a", "", ""));
            await().atMost(Duration.ofSeconds(5)).until(() -> got.equals(List.of("a")));
            sub.close();
            hub.publish(DispvmEvent.of(DispvmEvent.Kind.QUBE_CREATED, "b", "", ""));
            assertEquals(List.of("a"), got);
            assertThrows(IllegalArgumentException.class, () -> new EventHub(0, ex));
        } finally {
            ex.shutdownNow();
        }
    }
}
