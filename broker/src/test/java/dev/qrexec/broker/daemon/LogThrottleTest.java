package dev.qrexec.broker.daemon;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LogThrottleTest {

    @Test
    void letsThroughItsShareThenCountsWhatItDrops() {
        LogThrottle t = new LogThrottle(3);
        long s = 1_000_000_000L;
        assertEquals(0, t.admit(s));
        assertEquals(0, t.admit(s + 1));
        assertEquals(0, t.admit(s + 2));
        assertEquals(-1, t.admit(s + 3));
        assertEquals(-1, t.admit(s + 4));
        assertEquals(2, t.admit(2 * s + 5), "the next window's first line reports the two dropped");
        assertEquals(0, t.admit(2 * s + 6));
    }
}
