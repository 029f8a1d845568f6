package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PolicyReplyHandlerTest {

    private static final SocketRequest REQUEST = new SocketRequest("work", "vault", "qubes.Filecopy+x", "", false, false);

    private static String reply(PolicyResponder responder) {
        EmbeddedChannel ch = new EmbeddedChannel(new PolicyReplyHandler(responder));
        ch.writeInbound(REQUEST);
        ByteBuf out = ch.readOutbound();
        try {
            assertFalse(ch.isOpen(), "the connection closes after the reply");
            return out.toString(StandardCharsets.US_ASCII);
        } finally {
            out.release();
        }
    }

    @Test
    void writesTheReplyVerbatimThenCloses() {
        String text = "user=DEFAULT\nresult=allow\ntarget=vault\nautostart=True\nrequested_target=vault";
        assertEquals(text, reply(r -> r.source().equals("work") ? text : "wrong"));
    }

    @Test
    void responderFailureBecomesDeny() {
        assertEquals("result=deny", reply(r -> {
            throw new IllegalStateException("engine bug");
        }));
    }

    @Test
    void nonAsciiReplyBecomesDeny() {
        assertEquals("result=deny", reply(r -> "user=\u00e9\nresult=allow"));
    }

    @Test
    void nullReplyBecomesDeny() {
        assertEquals("result=deny", reply(r -> null));
    }
}
