package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.LifecycleEvent;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Delivers {@link LifecycleEvent}s to listeners on one thread ({@code qrexec-libvirt-listeners-<instance>}),
 * in the order they were published. Publishing never runs listener code on the publisher's thread.
 *
 * <p>The queue is bounded; when full, the publisher waits for room (listeners must not block, so
 * this only happens under a burst) rather than dropping an event.
 */
final class EventDispatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EventDispatcher.class.getName());

    private final List<Consumer<LifecycleEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ThreadPoolExecutor thread;

    EventDispatcher(String instance, int capacity) {
        thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(capacity), r -> {
            Thread t = new Thread(r, "qrexec-libvirt-listeners-" + instance);
            t.setDaemon(true);
            return t;
        }, (r, executor) -> {
            if (executor.isShutdown()) {
                throw new RejectedExecutionException("event dispatcher closed");
            }
            try {
                executor.getQueue().put(r);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RejectedExecutionException("interrupted waiting for room in the event queue", e);
            }
        });
    }

    AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    void publish(LifecycleEvent event) {
        LOG.log(System.Logger.Level.DEBUG, "qube {0}: {1} {2}", event.qube(), event.kind(), event.reason());
        try {
            thread.execute(() -> deliver(event));
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "event {0} of qube {1} not delivered: {2}",
                    event.kind(), event.qube(), e.getMessage());
        }
    }

    private void deliver(LifecycleEvent event) {
        for (Consumer<LifecycleEvent> l : listeners) {
            try {
                l.accept(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "listener " + l + " failed on " + event, e);
            }
        }
    }

    /** Delivers what is queued (up to 5 s), then stops the thread. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            thread.shutdownNow();
        }
    }
}
