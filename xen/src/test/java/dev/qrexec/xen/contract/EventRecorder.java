package dev.qrexec.xen.contract;

import dev.qrexec.xen.LifecycleEvent;

import org.awaitility.core.ConditionTimeoutException;
import org.opentest4j.AssertionFailedError;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Records life-cycle events and the threads they arrived on; waits for them with Awaitility. */
public final class EventRecorder implements Consumer<LifecycleEvent> {

    private final List<LifecycleEvent> events = new ArrayList<>();
    private final Set<String> threads = ConcurrentHashMap.newKeySet();

    @Override
    public void accept(LifecycleEvent event) {
        threads.add(Thread.currentThread().getName());
        synchronized (events) {
            events.add(event);
        }
    }

    /** Events of {@code qube} so far, in arrival order. */
    public List<LifecycleEvent> of(String qube) {
        synchronized (events) {
            return events.stream().filter(e -> e.qube().equals(qube)).toList();
        }
    }

    /** Kinds of the events of {@code qube} so far, in arrival order. */
    public List<LifecycleEvent.Kind> kinds(String qube) {
        return of(qube).stream().map(LifecycleEvent::kind).toList();
    }

    /** Names of the threads that delivered events. */
    public Set<String> threads() {
        return Set.copyOf(threads);
    }

    /** Waits until {@code qube} has had exactly {@code expected} events, in that order. */
    public void awaitKinds(String qube, Duration timeout, LifecycleEvent.Kind... expected) {
        List<LifecycleEvent.Kind> want = List.of(expected);
        try {
            await().atMost(timeout).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
                    .until(() -> kinds(qube).size() >= want.size());
        } catch (ConditionTimeoutException e) {
            throw new AssertionFailedError("events of " + qube + " after " + timeout, want, kinds(qube), e);
        }
        assertEquals(want, kinds(qube), "events of " + qube);
    }
}
