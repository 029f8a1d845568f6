package dev.qrexec.policy.reload;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SnapshotReloaderTest {

    /** A loader whose next result (a value, or an exception to throw) the test sets. */
    private static final class Scripted implements SnapshotReloader.Loader<String> {
        final AtomicReference<Object> next = new AtomicReference<>();
        final AtomicInteger calls = new AtomicInteger();

        Scripted(Object first) {
            next.set(first);
        }

        @Override
        public String load() throws Exception {
            calls.incrementAndGet();
            Object o = next.get();
            if (o instanceof Exception e) {
                throw e;
            }
            return (String) o;
        }
    }

    @Test
    void firstLoadIsGenerationOne() {
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", new Scripted("v1"), e -> "deny-all: " + e.getMessage())) {
            assertEquals("v1", r.current());
            assertEquals(1, r.snapshot().generation());
            assertTrue(r.status().healthy());
        }
    }

    @Test
    void failedFirstLoadInstallsTheFallback() {
        Scripted loader = new Scripted(new Exception("30-user.policy:3: invalid action: Allow"));
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", loader, e -> "deny-all: " + e.getMessage())) {
            assertEquals("deny-all: 30-user.policy:3: invalid action: Allow", r.current());
            SnapshotReloader.Status s = r.status();
            assertEquals(0, s.generation());
            assertEquals("30-user.policy:3: invalid action: Allow", s.lastError());
            assertEquals(1, s.failures());
            assertFalse(s.healthy());

            loader.next.set("fixed");
            SnapshotReloader.Status after = r.reload().join();
            assertEquals(1, after.generation());
            assertNull(after.lastError());
            assertEquals("fixed", r.current());
        }
    }

    @Test
    void failedReloadKeepsTheLastGoodValue() {
        Scripted loader = new Scripted("v1");
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", loader, e -> "deny-all: " + e.getMessage())) {
            loader.next.set(new IllegalStateException("10-a.policy:7: wrong number of fields"));
            SnapshotReloader.Status failed = r.reload().join();
            assertEquals(1, failed.generation());
            assertEquals("10-a.policy:7: wrong number of fields", failed.lastError());
            assertEquals("v1", r.current());
            assertSame(failed, r.status());

            loader.next.set(new Exception());
            assertEquals("java.lang.Exception", r.reload().join().lastError(), "a message-less error names its type");
            assertEquals(2, r.status().failures());

            loader.next.set("v2");
            SnapshotReloader.Status ok = r.reload().join();
            assertEquals(2, ok.generation());
            assertEquals(0, ok.failures());
            assertEquals("v2", r.current());
        }
    }

    @Test
    void nullFromTheLoaderIsAFailure() {
        Scripted loader = new Scripted("v1");
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", loader, e -> "deny-all: " + e.getMessage())) {
            loader.next.set(null);
            assertEquals("loader returned null", r.reload().join().lastError());
            assertEquals("v1", r.current());
        }
    }

    @Test
    void reloadsRequestedDuringALoadCoalesceIntoOne() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        SnapshotReloader.Loader<String> loader = () -> {
            int n = calls.incrementAndGet();
            if (n == 2) {
                started.countDown();
                assertTrue(release.await(10, TimeUnit.SECONDS));
            }
            return "v" + n;
        };
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", loader, e -> "deny-all: " + e.getMessage())) {
            CompletableFuture<SnapshotReloader.Status> running = r.reload();
            assertTrue(started.await(10, TimeUnit.SECONDS));
            CompletableFuture<SnapshotReloader.Status> queuedA = r.reload();
            CompletableFuture<SnapshotReloader.Status> queuedB = r.reload();
            assertSame(queuedA, queuedB, "a queued reload is joined, not duplicated");
            release.countDown();
            assertEquals(2, running.get(10, TimeUnit.SECONDS).generation());
            assertEquals(3, queuedB.get(10, TimeUnit.SECONDS).generation());
            assertEquals(3, calls.get());
            assertEquals("v3", r.current());
        }
    }

    @Test
    void reloadAfterCloseFails() {
        SnapshotReloader<String> r = SnapshotReloader.open("t", new Scripted("v1"), e -> "deny-all: " + e.getMessage());
        r.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> r.reload().get(5, TimeUnit.SECONDS));
        assertEquals("t reloader is closed", e.getCause().getMessage());
        assertEquals("v1", r.current(), "the last value stays readable");
    }

    @Test
    void readersSeeEitherTheOldOrTheNewValueNeverAMix() {
        Scripted loader = new Scripted("v1");
        try (SnapshotReloader<String> r = SnapshotReloader.open("t", loader, e -> "deny-all: " + e.getMessage())) {
            loader.next.set("v2");
            r.reload();
            await().atMost(Duration.ofSeconds(5)).until(() -> r.snapshot().generation() == 2);
            SnapshotReloader.Snapshot<String> s = r.snapshot();
            assertEquals("v2", s.value());
        }
    }
}
