package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The prompt socket's pipeline on an {@link EmbeddedChannel}: answers, hostile input, refused peers. */
class PromptAgentHandlerTest {

    private final PromptHub hub = new PromptHub();

    private EmbeddedChannel agent(String identity) {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        PromptAgentHandler.install(ch, hub, c -> identity);
        try {
            ch.register();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return ch;
    }

    private static void type(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    private static long questionId(EmbeddedChannel ch) throws Exception {
        ByteBuf out = ch.readOutbound();
        try {
            return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8)).path("id").asLong();
        } finally {
            out.release();
        }
    }

    @Test
    void anAnswerLineCompletesTheQuestionEvenWhenItArrivesInPieces() throws Exception {
        EmbeddedChannel ch = agent("pid 1 uid 0");
        assertTrue(hub.hasAgent());
        CompletableFuture<String> answer = hub.ask(PromptHubTest.prompt());
        ch.runPendingTasks();
        long id = questionId(ch);
        type(ch, "{\"type\":\"answer\",\"id\":" + id);
        assertFalse(answer.isDone());
        type(ch, ",\"answer\":\"allow:vault\"}\n");
        assertEquals("allow:vault", answer.get(1, TimeUnit.SECONDS));
        assertTrue(ch.isActive());
    }

    @Test
    void aRefusedPeerIsClosedAndNeverAttached() {
        EmbeddedChannel ch = agent(null);
        assertFalse(ch.isActive());
        assertFalse(hub.hasAgent());
    }

    @Test
    void malformedJsonClosesTheConnectionAndDeniesItsOpenQuestions() {
        EmbeddedChannel ch = agent("a");
        CompletableFuture<String> answer = hub.ask(PromptHubTest.prompt());
        type(ch, "{not json\n");
        assertFalse(ch.isActive());
        assertTrue(answer.isCompletedExceptionally());
        assertFalse(hub.hasAgent());
    }

    @Test
    void anUnknownMessageCloses() {
        EmbeddedChannel ch = agent("a");
        type(ch, "{\"type\":\"shutdown\"}\n");
        assertFalse(ch.isActive());
    }

    @Test
    void aLineOverTheLimitCloses() {
        EmbeddedChannel ch = agent("a");
        type(ch, "x".repeat(PromptProtocol.MAX_LINE + 1));
        assertFalse(ch.isActive());
    }
}
