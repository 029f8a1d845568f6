package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestInputTest {

    @Test
    void findsADelimiterThatArrivesByteByByte() throws Exception {
        RequestInput in = ChunkedInput.of("source=work\nrest", 1);
        assertEquals(11, in.find((byte) '\n', 100, "line"));
        assertEquals("source=work", in.takeAscii(11, "line"));
        in.skip(1);
        assertEquals(-1, in.find((byte) '\n', 100, "line"), "the input ends before another newline");
        assertEquals(4, in.available());
        assertEquals("rest", in.takeAscii(4, "line"));
    }

    @Test
    void growsPastItsBufferForALongFieldAndShrinksForTheNextConnection() throws Exception {
        String longLine = "x".repeat(1000);
        RequestInput in = ChunkedInput.of(longLine + "\n", 7);
        assertEquals(1000, in.find((byte) '\n', 2000, "line"));
        assertEquals(longLine, in.takeAscii(1000, "line"));
        in.reset(new ChunkedInput("a\n", 10));
        assertEquals(1, in.find((byte) '\n', 2000, "line"));
    }

    @Test
    void refusesATooLongFieldAsSoonAsItIsKnownWithoutReadingTheRest() {
        ChunkedInput source = new ChunkedInput("y".repeat(100_000), 16);
        RequestInput in = new RequestInput(64).reset(source);
        MalformedRequestException e = assertThrows(MalformedRequestException.class, () -> in.find((byte) '\n', 32, "line"));
        assertEquals("line longer than 32 bytes", e.getMessage());
        assertTrue(source.unread() > 99_000, "stopped reading at the limit, read " + (100_000 - source.unread()));
    }

    @Test
    void refusesATooLongFieldThatArrivesWholeWithItsDelimiter() {
        RequestInput in = ChunkedInput.of("0123456789\n", 100);
        assertThrows(MalformedRequestException.class, () -> in.find((byte) '\n', 9, "line"));
    }

    @Test
    void acceptsAFieldOfExactlyTheLimit() throws Exception {
        RequestInput in = ChunkedInput.of("012345678\n", 3);
        assertEquals(9, in.find((byte) '\n', 9, "line"));
    }

    @Test
    void requireStopsAtTheCountOrAtTheEnd() throws Exception {
        RequestInput in = ChunkedInput.of("abcdefgh", 3);
        assertEquals(5, in.require(5));
        assertArrayEquals("abcde".getBytes(StandardCharsets.US_ASCII), in.take(5));
        assertEquals(3, in.require(96), "the input ended after three more bytes");
    }

    @Test
    void nonAsciiIsRefusedWithItsOffset() throws Exception {
        RequestInput in = ChunkedInput.of("source=w\u00e9rk\n", 100);
        int n = in.find((byte) '\n', 100, "line");
        MalformedRequestException e = assertThrows(MalformedRequestException.class, () -> in.takeAscii(n, "a line"));
        assertEquals("non-ASCII byte at offset 8 of a line", e.getMessage());
    }
}
