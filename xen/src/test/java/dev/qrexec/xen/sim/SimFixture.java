package dev.qrexec.xen.sim;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.EventRecorder;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A sim backend on a manual clock, plus helpers, for exact tests. */
final class SimFixture implements AutoCloseable {

    static final long MIB = 1L << 20;

    final ManualScheduler clock = new ManualScheduler();
    final EventRecorder events = new EventRecorder();
    final SimHypervisor sim;
    private final AtomicInteger domainIds = new AtomicInteger(10);

    SimFixture(Consumer<SimHypervisorBuilder> settings) {
        SimHypervisorBuilder builder = SimHypervisor.builder().scheduler(clock);
        settings.accept(builder);
        sim = builder.build();
        sim.subscribe(events);
    }

    /** Defines a qube with {@code memoryMiB} initial and {@code maxMiB} maximum memory. */
    String define(String name, long memoryMiB, long maxMiB) {
        done(sim.define(QubeSpec.builder(name, domainIds.incrementAndGet())
                .memoryMiB(memoryMiB).maxMemoryMiB(maxMiB).build()));
        return name;
    }

    void advance(long millis) {
        clock.advance(Duration.ofMillis(millis));
    }

    /** The future has completed normally (the manual clock runs everything synchronously). */
    static <T> T done(CompletableFuture<T> future) {
        assertTrue(future.isDone(), "operation has not completed");
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw new AssertionError("operation failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The future has failed with {@code type}; returns the error. */
    static <E extends Throwable> E failed(Class<E> type, CompletableFuture<?> future) {
        assertTrue(future.isDone(), "operation has not completed");
        try {
            future.get();
        } catch (ExecutionException e) {
            if (type.isInstance(e.getCause())) {
                return type.cast(e.getCause());
            }
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return fail("expected " + type.getSimpleName() + " but the operation succeeded");
    }

    @Override
    public void close() {
        sim.close();
    }
}
