package dev.qrexec.dispvm.store;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.dispvm.registry.Mutations;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.QubeRegistry;
import dev.qrexec.dispvm.registry.RegistryState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Regression: commits hand their states to the writer after the registry lock is released, so a
 * newer state can reach it first. An older state arriving while the newer one is being written
 * used to be queued and written afterwards, putting the file back to the older generation and
 * losing an acknowledged change (seen as a rare StoreCrashTest failure under load).
 */
class StoreWriterOrderTest {

    @Test
    void anOlderStateArrivingDuringTheWriteOfANewerOneIsNeverWrittenAfterIt() throws Exception {
        QubeRegistry registry = new QubeRegistry(RegistryState.initial(), null);
        RegistryState older = registry.update(s -> Mutations.createQube(s, "a", QubeClass.STANDALONE_VM, Map.of())).after();
        RegistryState newer = registry.update(s -> Mutations.createQube(s, "b", QubeClass.STANDALONE_VM, Map.of())).after();

        List<Long> writtenGenerations = new CopyOnWriteArrayList<>();
        CountDownLatch newerWriteStarted = new CountDownLatch(1);
        CountDownLatch releaseNewerWrite = new CountDownLatch(1);
        StoreWriter.StateSink sink = state -> {
            if (state.generation() == newer.generation()) {
                newerWriteStarted.countDown();
                try {
                    releaseNewerWrite.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            writtenGenerations.add(state.generation());
        };
        try (StoreWriter writer = new StoreWriter(sink)) {
            CompletableFuture<Void> newerDurable = writer.persist(newer);
            assertTrue(newerWriteStarted.await(10, TimeUnit.SECONDS), "the newer state is being written");
            CompletableFuture<Void> olderDurable = writer.persist(older);
            releaseNewerWrite.countDown();

            await().atMost(Duration.ofSeconds(10)).until(() -> newerDurable.isDone() && olderDurable.isDone());
            newerDurable.join();
            olderDurable.join();
            // one more change must be written after, and only after, the newer one
            RegistryState newest = registry.update(s -> Mutations.createQube(s, "c", QubeClass.STANDALONE_VM, Map.of())).after();
            writer.persist(newest).get(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of(newer.generation(), registry.snapshot().generation()), writtenGenerations,
                "the older state must not be written over the newer one");
    }

    @Test
    void aLateOlderStateIsWrittenWhenTheNewerWriteFailed() throws Exception {
        QubeRegistry registry = new QubeRegistry(RegistryState.initial(), null);
        RegistryState older = registry.update(s -> Mutations.createQube(s, "a", QubeClass.STANDALONE_VM, Map.of())).after();
        RegistryState newer = registry.update(s -> Mutations.createQube(s, "b", QubeClass.STANDALONE_VM, Map.of())).after();
        List<Long> writtenGenerations = new CopyOnWriteArrayList<>();
        StoreWriter.StateSink sink = state -> {
            if (state.generation() == newer.generation()) {
                throw new IllegalStateException("disk full");
            }
            writtenGenerations.add(state.generation());
        };
        try (StoreWriter writer = new StoreWriter(sink)) {
            CompletableFuture<Void> failed = writer.persist(newer);
            await().atMost(Duration.ofSeconds(10)).until(failed::isDone);
            assertTrue(failed.isCompletedExceptionally());
            writer.persist(older).get(10, TimeUnit.SECONDS);
        }
        assertEquals(List.of(older.generation()), writtenGenerations);
    }
}
