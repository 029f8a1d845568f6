package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.Notification;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

class PromptHubTest {

    private final ObjectMapper json = new ObjectMapper();

    /** A prompt agent that records what it is sent. */
    static final class Recorder implements PromptHub.PromptAgent {
        final List<String> lines = new CopyOnWriteArrayList<>();
        volatile boolean accepting = true;
        final String name;

        Recorder(String name) {
            this.name = name;
        }

        @Override
        public boolean send(String jsonLine) {
            if (accepting) {
                lines.add(jsonLine);
            }
            return accepting;
        }

        @Override
        public String describe() {
            return name;
        }
    }

    static AskPrompt prompt() {
        return new AskPrompt("dom0", Map.of("source", "work", "service", "qubes.Filecopy", "argument", "+",
                "targets", List.of("personal", "vault"), "default_target", "personal", "icons", Map.of()));
    }

    private JsonNode line(Recorder r, int i) throws Exception {
        return json.readTree(r.lines.get(i));
    }

    @Test
    void withoutAnAgentAQuestionFailsAtOnceWithTheReason() {
        CompletableFuture<String> f = new PromptHub().ask(prompt());
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("no prompt agent is connected"), e.getCause().getMessage());
    }

    @Test
    void theQuestionGoesToTheAgentWithoutIconsAndItsAnswerCompletesIt() throws Exception {
        PromptHub hub = new PromptHub();
        Recorder agent = new Recorder("a");
        hub.attached(agent);
        CompletableFuture<String> f = hub.ask(prompt());
        JsonNode ask = line(agent, 0);
        assertEquals("ask", ask.path("type").asText());
        assertEquals("work", ask.path("source").asText());
        assertEquals("personal", ask.path("default_target").asText());
        assertEquals(2, ask.path("targets").size());
        assertTrue(ask.path("icons").isMissingNode());
        assertFalse(f.isDone());
        hub.answered(agent, ask.path("id").asLong(), "allow:vault");
        assertEquals("allow:vault", f.get(1, TimeUnit.SECONDS));
        assertEquals(0, hub.pendingCount());
    }

    @Test
    void anAnswerFromAnotherAgentOrForAnUnknownQuestionIsIgnored() throws Exception {
        PromptHub hub = new PromptHub();
        Recorder first = new Recorder("first");
        hub.attached(first);
        CompletableFuture<String> f = hub.ask(prompt());
        long id = line(first, 0).path("id").asLong();
        Recorder second = new Recorder("second");
        hub.attached(second);
        hub.answered(second, id, "allow:vault");
        hub.answered(first, id + 100, "allow:vault");
        assertFalse(f.isDone());
        hub.answered(first, id, "deny");
        assertEquals("deny", f.get(1, TimeUnit.SECONDS));
        // New questions go to the agent connected last.
        hub.ask(prompt());
        assertEquals(1, second.lines.size());
    }

    @Test
    void aQuestionEndedElsewhereIsWithdrawnFromTheAgent() throws Exception {
        PromptHub hub = new PromptHub();
        Recorder agent = new Recorder("a");
        hub.attached(agent);
        CompletableFuture<String> f = hub.ask(prompt());
        long id = line(agent, 0).path("id").asLong();
        f.completeExceptionally(new TimeoutException());
        JsonNode withdraw = line(agent, 1);
        assertEquals("withdraw", withdraw.path("type").asText());
        assertEquals(id, withdraw.path("id").asLong());
        assertEquals("timed out", withdraw.path("reason").asText());
        assertEquals(0, hub.pendingCount());
    }

    @Test
    void theAgentLeavingFailsItsOpenQuestionsAndLaterOnesFailAtOnce() {
        PromptHub hub = new PromptHub();
        Recorder agent = new Recorder("a");
        hub.attached(agent);
        CompletableFuture<String> f = hub.ask(prompt());
        hub.detached(agent);
        assertTrue(f.isCompletedExceptionally());
        assertFalse(hub.hasAgent());
        assertTrue(hub.ask(prompt()).isCompletedExceptionally());
    }

    @Test
    void anAgentThatCannotTakeTheQuestionFailsItAndTooManyOpenQuestionsAreRefused() {
        PromptHub hub = new PromptHub();
        Recorder agent = new Recorder("a");
        hub.attached(agent);
        agent.accepting = false;
        assertTrue(hub.ask(prompt()).isCompletedExceptionally());
        agent.accepting = true;
        for (int i = 0; i < PromptHub.MAX_PENDING; i++) {
            assertFalse(hub.ask(prompt()).isDone());
        }
        CompletableFuture<String> tooMany = hub.ask(prompt());
        ExecutionException e = assertThrows(ExecutionException.class, tooMany::get);
        assertTrue(e.getCause().getMessage().contains("already wait"), e.getCause().getMessage());
    }

    @Test
    void aNotificationIsShownByTheAgent() throws Exception {
        PromptHub hub = new PromptHub();
        hub.notify(new Notification("dom0", "deny", "test.A", "", "work", "vault")); // no agent: only logged
        Recorder agent = new Recorder("a");
        hub.attached(agent);
        hub.notify(new Notification("dom0", "allow", "test.A", "+x", "work", "vault"));
        JsonNode n = line(agent, 0);
        assertEquals("notify", n.path("type").asText());
        assertEquals("allow", n.path("resolution").asText());
        assertEquals("+x", n.path("argument").asText());
        assertEquals("vault", n.path("target").asText());
    }
}
