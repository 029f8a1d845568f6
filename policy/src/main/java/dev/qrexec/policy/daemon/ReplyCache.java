package dev.qrexec.policy.daemon;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Remembers the reply to each distinct request for one (policy, system info) pair.
 *
 * <p>A reply is a pure function of the policy, the system info and the six request fields, and both
 * inputs are immutable snapshots; so while neither snapshot changes, an identical request gets the
 * identical reply. qrexec traffic repeats (the same qube calls the same service on the same target),
 * and on large policies evaluation dominates the cost of a request. A new snapshot of either input
 * (compared by identity) starts an empty cache, so a reload is never answered from stale entries.
 *
 * <p>Bounded: when {@code maxEntries} is reached the cache is emptied and refills (a client spraying
 * distinct requests costs memory for at most {@code maxEntries} replies). Thread-safe and lock-free;
 * shared by all serving threads.
 */
final class ReplyCache<V> {

    private record Generation<V>(Object policy, Object system, ConcurrentHashMap<SocketRequest, V> replies) {
    }

    private final int maxEntries;
    private final AtomicReference<Generation<V>> generation = new AtomicReference<>(new Generation<>(null, null,
            new ConcurrentHashMap<>()));

    ReplyCache(int maxEntries) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive, was " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    /** The replies valid for these snapshots, replacing older snapshots' replies. */
    private ConcurrentHashMap<SocketRequest, V> repliesFor(Object policy, Object system) {
        while (true) {
            Generation<V> g = generation.get();
            if (g.policy() == policy && g.system() == system) {
                return g.replies();
            }
            Generation<V> fresh = new Generation<>(policy, system, new ConcurrentHashMap<>());
            if (generation.compareAndSet(g, fresh)) {
                return fresh.replies();
            }
        }
    }

    V get(Object policy, Object system, SocketRequest request) {
        return repliesFor(policy, system).get(request);
    }

    void put(Object policy, Object system, SocketRequest request, V reply) {
        ConcurrentHashMap<SocketRequest, V> replies = repliesFor(policy, system);
        if (replies.size() >= maxEntries) {
            replies.clear();
        }
        replies.put(request, reply);
    }

    int size() {
        return generation.get().replies().size();
    }
}
