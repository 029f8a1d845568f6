package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.LifecycleEvent;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Delivers life-cycle events to listeners on one thread, in the order they were published. The
 * queue is bounded: a listener that blocks long enough to fill it loses events, and each loss is
 * logged as an error naming the event (listeners must hand work off, see the SPI).
 */
final class EventDispatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EventDispatcher.class.getName());
    static final int QUEUE_CAPACITY = 4096;

    private final List<Consumer<LifecycleEvent>> listeners = new CopyOnWriteArrayList<>();
    private final ThreadPoolExecutor thread;

    EventDispatcher(String instance) {
        this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE_CAPACITY),
                r -> {
                    Thread t = new Thread(r, "qrexec-sandbox-" + instance + "-events");
                    t.setDaemon(true);
                    return t;
                },
                (r, executor) -> LOG.log(System.Logger.Level.ERROR,
                        "event queue full ({0} events) or closed: an event was dropped; a listener is blocking",
                        QUEUE_CAPACITY));
    }

    void publish(LifecycleEvent event) {
        LOG.log(System.Logger.Level.DEBUG, "event {0}", event);
        thread.execute(() -> {
            for (Consumer<LifecycleEvent> listener : listeners) {
                try {
                    listener.accept(event);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "listener failed on " + event, e);
                }
            }
        });
    }

    AutoCloseable subscribe(Consumer<LifecycleEvent> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return () -> listeners.remove(listener);
    }

    @Override
    public void close() {
        thread.shutdown();
    }
}
