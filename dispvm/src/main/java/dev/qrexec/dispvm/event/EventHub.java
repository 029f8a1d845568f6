package dev.qrexec.dispvm.event;

import java.util.ArrayDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Fan-out of {@link DispvmEvent}s. Each listener has its own bounded queue drained on the given
 * executor, one event at a time and in order; when a queue is full the oldest event is dropped and
 * counted, so a slow listener never blocks the manager and memory stays bounded.
 */
public final class EventHub {

    private static final System.Logger LOG = System.getLogger(EventHub.class.getName());

    private final int capacity;
    private final Executor executor;
    private final CopyOnWriteArrayList<Subscription> subscriptions = new CopyOnWriteArrayList<>();

    public EventHub(int capacity, Executor executor) {
        if (capacity < 1) {
            throw new IllegalArgumentException("event queue capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.executor = executor;
    }

    public AutoCloseable subscribe(Consumer<DispvmEvent> listener) {
        Subscription s = new Subscription(listener);
        subscriptions.add(s);
        return () -> subscriptions.remove(s);
    }

    public void publish(DispvmEvent event) {
        LOG.log(System.Logger.Level.DEBUG, "{0} {1} {2} {3}", event.kind(), event.qube(), event.template(),
                event.detail());
        for (Subscription s : subscriptions) {
            s.offer(event);
        }
    }

    /** Events dropped so far because listeners were too slow. */
    public long dropped() {
        return subscriptions.stream().mapToLong(s -> s.dropped.get()).sum();
    }

    private final class Subscription implements Runnable {
        private final Consumer<DispvmEvent> listener;
        private final ArrayDeque<DispvmEvent> queue = new ArrayDeque<>();
        private final AtomicLong dropped = new AtomicLong();
        private boolean scheduled;

        Subscription(Consumer<DispvmEvent> listener) {
            this.listener = listener;
        }

        void offer(DispvmEvent e) {
            boolean schedule;
            synchronized (this) {
                if (queue.size() == capacity) {
                    queue.pollFirst();
                    if (dropped.incrementAndGet() % 1000 == 1) {
                        LOG.log(System.Logger.Level.WARNING, "event listener too slow: {0} events dropped", dropped.get());
                    }
                }
                queue.addLast(e);
                schedule = !scheduled;
                scheduled = true;
            }
            if (schedule) {
                executor.execute(this);
            }
        }

        @Override
        public void run() {
            while (true) {
                DispvmEvent e;
                synchronized (this) {
                    e = queue.pollFirst();
                    if (e == null) {
                        scheduled = false;
                        return;
                    }
                }
                try {
                    listener.accept(e);
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.WARNING, "event listener failed on " + e.kind(), ex);
                }
            }
        }
    }
}
