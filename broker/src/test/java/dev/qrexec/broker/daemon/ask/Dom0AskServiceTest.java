package dev.qrexec.broker.daemon.ask;

import dev.qrexec.broker.daemon.dom0.ServiceCall;
import dev.qrexec.policy.reply.AskPrompt;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

class Dom0AskServiceTest {

    private static final ServiceCall CALL = new ServiceCall("policy.Ask", "", "sys-policy", "dom0", false);
    private static final String QUESTION = "{\"source\":\"work\",\"service\":\"qubes.Filecopy\",\"argument\":\"+\","
            + "\"targets\":[\"personal\"],\"default_target\":\"personal\",\"icons\":{}}";

    private final List<AskPrompt> asked = new CopyOnWriteArrayList<>();

    private int run(Dom0AskService service, String stdin, ByteArrayOutputStream out) throws Exception {
        return service.run(CALL, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out);
    }

    @Test
    void theQuestionGoesToDom0sPromptAndItsAnswerIsTheOutput() throws Exception {
        Dom0AskService s = new Dom0AskService(p -> {
            asked.add(p);
            return CompletableFuture.completedFuture("allow:personal");
        }, Duration.ofSeconds(5));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, run(s, QUESTION, out));
        assertEquals("allow:personal", out.toString(StandardCharsets.UTF_8));
        assertEquals("dom0", asked.get(0).guivm());
        assertEquals("work", asked.get(0).params().get("source"));
    }

    @Test
    void aMalformedQuestionNoAnswerInTimeOrAFailedPromptGiveNoAnswer() throws Exception {
        Dom0AskService never = new Dom0AskService(p -> new CompletableFuture<>(), Duration.ofMillis(50));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(1, run(never, "not json", out));
        assertEquals(1, run(never, "{\"source\":\"work\",\"service\":\"x\",\"targets\":[]}", out));
        assertEquals(1, run(never, QUESTION, out), "timed out");
        Dom0AskService failing = new Dom0AskService(
                p -> CompletableFuture.failedFuture(new IllegalStateException("no prompt agent")), Duration.ofSeconds(5));
        assertEquals(1, run(failing, QUESTION, out));
        assertEquals(0, out.size());
    }
}
