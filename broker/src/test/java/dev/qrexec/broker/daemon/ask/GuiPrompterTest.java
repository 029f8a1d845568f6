package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.Notification;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class GuiPrompterTest {

    record Call(String qube, String service, String stdin) {
    }

    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final List<Notification> dom0Notified = new CopyOnWriteArrayList<>();

    private GuiPrompter prompter(CompletableFuture<String> qubeAnswer) {
        return new GuiPrompter(p -> CompletableFuture.completedFuture("allow:from-dom0"), dom0Notified::add,
                (qube, service, stdin) -> {
                    calls.add(new Call(qube, service, new String(stdin, StandardCharsets.UTF_8)));
                    return qubeAnswer;
                });
    }

    @Test
    void dom0AsGuivmUsesDom0sPromptAndAQubeGetsAPolicyAskCallWithTheJsonPayload() throws Exception {
        GuiPrompter gui = prompter(CompletableFuture.completedFuture("allow:vault"));
        AskPrompt dom0 = new AskPrompt("dom0", PromptHubTest.prompt().params());
        assertEquals("allow:from-dom0", gui.ask(dom0).get(1, TimeUnit.SECONDS));
        assertEquals(List.of(), calls);

        AskPrompt sysGui = new AskPrompt("sys-gui", PromptHubTest.prompt().params());
        assertEquals("allow:vault", gui.ask(sysGui).get(1, TimeUnit.SECONDS));
        assertEquals(1, calls.size());
        assertEquals("sys-gui", calls.get(0).qube());
        assertEquals("policy.Ask", calls.get(0).service());
        JsonNode payload = new ObjectMapper().readTree(calls.get(0).stdin());
        assertEquals("work", payload.path("source").asText());
        assertEquals("personal", payload.path("default_target").asText());
        assertTrue(payload.has("icons"), "the qube's prompt gets the icons");
    }

    @Test
    void notificationsGoToDom0OrAsPolicyNotifyAndAFailedOneIsIgnored() {
        GuiPrompter gui = prompter(CompletableFuture.failedFuture(new IllegalStateException("sys-gui is down")));
        Notification toDom0 = new Notification("dom0", "deny", "test.A", "", "work", "vault");
        gui.notify(toDom0);
        assertEquals(List.of(toDom0), dom0Notified);
        gui.notify(new Notification("sys-gui", "allow", "test.A", "", "work", "vault"));
        assertEquals(1, calls.size());
        assertEquals("policy.Notify", calls.get(0).service());
        assertTrue(calls.get(0).stdin().contains("\"resolution\":\"allow\""), calls.get(0).stdin());
    }
}
