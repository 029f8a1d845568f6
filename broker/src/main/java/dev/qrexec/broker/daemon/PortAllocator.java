package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.WireLimits;

import java.util.BitSet;

/**
 * The data ports of one qube (513..768, spec qrexec-wire.md 4.3). A port is taken when a call is
 * set up and freed only after the qube's agent reports CONNECTION_TERMINATED for it, so a port is
 * never reused while a data connection might still use its socket name. Thread-safe: calls of
 * one qube may be set up on several event loops; the lock guards a bit set and nothing else.
 */
public final class PortAllocator {

    private static final int SLOTS = WireLimits.LAST_DATA_PORT - WireLimits.FIRST_DATA_PORT + 1;

    private final BitSet used = new BitSet(SLOTS);
    private int next;

    /** A free port, or -1 if all 256 are in use. */
    public synchronized int allocate() {
        int slot = used.nextClearBit(next);
        if (slot >= SLOTS) {
            slot = used.nextClearBit(0);
            if (slot >= SLOTS) {
                return -1;
            }
        }
        used.set(slot);
        // Round-robin: a just-freed port is not handed out again at once.
        next = (slot + 1) % SLOTS;
        return WireLimits.FIRST_DATA_PORT + slot;
    }

    /** Frees {@code port}; false if it was not allocated (a stray CONNECTION_TERMINATED). */
    public synchronized boolean release(int port) {
        if (!WireLimits.isDataPort(port)) {
            return false;
        }
        int slot = port - WireLimits.FIRST_DATA_PORT;
        boolean was = used.get(slot);
        used.clear(slot);
        return was;
    }

    public synchronized int inUse() {
        return used.cardinality();
    }
}
