package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.ReadTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PolicyRequestValidatorTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new RequestLineDecoder(), new PolicyRequestValidator());
    }

    private static void write(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    @Test
    void emitsOneRequestAtTheEmptyLine() {
        EmbeddedChannel ch = channel();
        write(ch, "source=work\nintended_target=vault\n");
        assertNull(ch.readInbound());
        write(ch, "service_and_arg=qubes.Filecopy+x\n\n");
        assertEquals(new SocketRequest("work", "vault", "qubes.Filecopy+x", "", false, false), ch.readInbound());
        assertTrue(ch.isOpen(), "the reply handler closes, not the validator");
    }

    @Test
    void emitsTheRequestAtEndOfInput() {
        EmbeddedChannel ch = channel();
        write(ch, "source=work\nintended_target=vault\nservice_and_arg=s");
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        assertEquals(new SocketRequest("work", "vault", "s", "", false, false), ch.readInbound());
    }

    @Test
    void closesWithoutOutputOnUnknownKey() {
        EmbeddedChannel ch = channel();
        write(ch, "source=work\nintended_target=vault\nservice_and_arg=s\ndomain_id=3\n\n");
        assertNull(ch.readInbound());
        assertNull(ch.readOutbound());
        assertFalse(ch.isOpen());
    }

    @Test
    void closesOnDuplicateKey() {
        EmbeddedChannel ch = channel();
        write(ch, "source=work\nsource=work\n");
        assertFalse(ch.isOpen());
        assertNull(ch.readInbound());
    }

    @Test
    void closesOnMissingKeyAtTheEnd() {
        EmbeddedChannel ch = channel();
        write(ch, "source=work\nintended_target=vault\n\n");
        assertFalse(ch.isOpen());
        assertNull(ch.readInbound());
    }

    @Test
    void closesOnEmptyRequest() {
        EmbeddedChannel ch = channel();
        write(ch, "\n");
        assertFalse(ch.isOpen());
    }

    @Test
    void closesOnNonAscii() {
        EmbeddedChannel ch = channel();
        write(ch, "source=\u00ff\n");
        assertFalse(ch.isOpen());
        assertNull(ch.readInbound());
    }

    @Test
    void closesOnTooLongLine() {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestLineDecoder(32), new PolicyRequestValidator());
        write(ch, "source=" + "a".repeat(40));
        assertFalse(ch.isOpen());
    }

    @Test
    void closesOnReadTimeout() {
        EmbeddedChannel ch = channel();
        ch.pipeline().fireExceptionCaught(ReadTimeoutException.INSTANCE);
        assertFalse(ch.isOpen());
    }
}
