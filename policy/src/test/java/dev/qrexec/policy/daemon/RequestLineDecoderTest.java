package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestLineDecoderTest {

    private static void write(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    @Test
    void splitsLinesAndEndsAtEmptyLine() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        write(ch, "source=work\nintended_target=va");
        assertEquals("source=work", ch.readInbound());
        assertNull(ch.readInbound());
        write(ch, "ult\n\nignored=after-end\n");
        assertEquals("intended_target=vault", ch.readInbound());
        assertSame(RequestLineDecoder.END_OF_REQUEST, ch.readInbound());
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void endOfInputEndsTheRequestAndKeepsAPartialLastLine() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        write(ch, "source=work\nservice_and_arg=x");
        assertEquals("source=work", ch.readInbound());
        ch.finish();
        assertEquals("service_and_arg=x", ch.readInbound());
        assertSame(RequestLineDecoder.END_OF_REQUEST, ch.readInbound());
        assertNull(ch.readInbound());
    }

    @Test
    void endOfInputWithoutDataIsAnEmptyRequest() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        ch.finish();
        assertSame(RequestLineDecoder.END_OF_REQUEST, ch.readInbound());
    }

    @Test
    void keepsCarriageReturnAndControlBytesAsData() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        write(ch, "source=a\r\nx=\u0000\n\n");
        assertEquals("source=a\r", ch.readInbound());
        assertEquals("x=\u0000", ch.readInbound());
        assertSame(RequestLineDecoder.END_OF_REQUEST, ch.readInbound());
    }

    @Test
    void rejectsNonAsciiByte() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        CorruptedFrameException e = assertThrows(CorruptedFrameException.class, () -> write(ch, "source=w\u00e9rk\n"));
        assertTrue(e.getMessage().contains("offset 8"), e.getMessage());
        write(ch, "source=ok\n\n");
        assertNull(ch.readInbound(), "nothing is decoded after a failure");
    }

    @Test
    void rejectsTooLongLineBeforeItsNewlineArrives() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder(16));
        write(ch, "source=012345678");
        assertNull(ch.readInbound(), "16 bytes without a newline may still become a valid line");
        assertThrows(TooLongFrameException.class, () -> write(ch, "x"));
        assertNull(ch.readInbound());
    }

    @Test
    void acceptsLineOfExactlyTheLimit() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder(16));
        write(ch, "source=012345678\n\n");
        assertEquals("source=012345678", ch.readInbound());
        assertSame(RequestLineDecoder.END_OF_REQUEST, ch.readInbound());
    }

    @Test
    void rejectsTooLongLineEvenWhenItArrivesWhole() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder(16));
        assertThrows(TooLongFrameException.class, () -> write(ch, "source=0123456789\n\n"));
        assertNull(ch.readInbound());
    }

    @Test
    void defaultLimitAcceptsALongServiceName() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder());
        String line = "service_and_arg=" + "s".repeat(65_000);
        write(ch, line + "\n\n");
        assertEquals(line, ch.readInbound());
    }

    @Test
    void refusesNonPositiveLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RequestLineDecoder(0));
        assertEquals("maxLineLength must be positive, was 0", e.getMessage());
    }
}
