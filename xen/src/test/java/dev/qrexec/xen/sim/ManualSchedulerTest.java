package dev.qrexec.xen.sim;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ManualSchedulerTest {

    private final ManualScheduler clock = new ManualScheduler();
    private final List<String> ran = new ArrayList<>();

    @Test
    void tasksRunInDueOrderEachAtItsOwnTime() {
        clock.schedule(Duration.ofMillis(30), () -> ran.add("c@" + clock.elapsed().toMillis()));
        clock.schedule(Duration.ofMillis(10), () -> ran.add("a@" + clock.elapsed().toMillis()));
        clock.schedule(Duration.ofMillis(10), () -> ran.add("b@" + clock.elapsed().toMillis()));
        clock.advance(Duration.ofMillis(25));
        assertEquals(List.of("a@10", "b@10"), ran);
        assertEquals(Duration.ofMillis(25), clock.elapsed());
        clock.advance(Duration.ofMillis(5));
        assertEquals(List.of("a@10", "b@10", "c@30"), ran);
    }

    @Test
    void dueTasksRunBeforeExecuteReturnsAndNestedOnesAfterTheirParent() {
        clock.execute(() -> {
            clock.execute(() -> ran.add("nested"));
            ran.add("outer");
        });
        assertEquals(List.of("outer", "nested"), ran);
    }

    @Test
    void aTaskScheduledByATaskRunsWithinTheSameAdvanceIfDue() {
        clock.schedule(Duration.ofMillis(10), () ->
                clock.schedule(Duration.ofMillis(10), () -> ran.add("second@" + clock.elapsed().toMillis())));
        clock.advance(Duration.ofMillis(20));
        assertEquals(List.of("second@20"), ran);
    }

    @Test
    void cancelledTasksDoNotRun() {
        SimScheduler.Cancellable task = clock.schedule(Duration.ofMillis(10), () -> ran.add("x"));
        task.cancel();
        clock.advance(Duration.ofSeconds(1));
        assertEquals(List.of(), ran);
        assertEquals(0, clock.pendingTasks());
    }

    @Test
    void aThrowingTaskDoesNotStopTheOthers() {
        clock.schedule(Duration.ofMillis(1), () -> {
            throw new IllegalStateException("boom (expected by the test)");
        });
        clock.schedule(Duration.ofMillis(2), () -> ran.add("after"));
        clock.advance(Duration.ofMillis(2));
        assertEquals(List.of("after"), ran);
    }

    @Test
    void misuseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> clock.advance(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> clock.schedule(Duration.ofMillis(-1), () -> { }));
        List<Throwable> errors = new ArrayList<>();
        clock.execute(() -> {
            try {
                clock.advance(Duration.ofMillis(1));
            } catch (IllegalStateException e) {
                errors.add(e);
            }
        });
        assertEquals(1, errors.size(), "advance() from inside a task is refused");
        clock.close();
        assertThrows(IllegalStateException.class, () -> clock.execute(() -> { }));
    }
}
