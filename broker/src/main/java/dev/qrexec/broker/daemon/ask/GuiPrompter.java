package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.AskPrompter;
import dev.qrexec.policy.reply.Notification;
import dev.qrexec.policy.reply.Notifier;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Sends {@code policy.Ask} and {@code policy.Notify} to the source's GUI qube (spec 5.8): dom0's
 * own prompt ({@link PromptHub}, or scripted answers) when the guivm is dom0, otherwise a qrexec
 * call into that qube with the JSON payload on stdin, whose stdout is the answer. Notification
 * failures are logged and ignored.
 */
public final class GuiPrompter implements AskPrompter, Notifier {

    private static final Logger LOG = System.getLogger(GuiPrompter.class.getName());
    static final String DOM0 = "dom0";

    private final ObjectMapper json = new ObjectMapper();
    private final AskPrompter dom0Prompt;
    private final Notifier dom0Notifier;
    private final QubeServiceCaller qubes;

    public GuiPrompter(AskPrompter dom0Prompt, Notifier dom0Notifier, QubeServiceCaller qubes) {
        this.dom0Prompt = Objects.requireNonNull(dom0Prompt, "dom0Prompt");
        this.dom0Notifier = Objects.requireNonNull(dom0Notifier, "dom0Notifier");
        this.qubes = Objects.requireNonNull(qubes, "qubes");
    }

    @Override
    public CompletableFuture<String> ask(AskPrompt prompt) {
        if (DOM0.equals(prompt.guivm())) {
            return dom0Prompt.ask(prompt);
        }
        byte[] payload;
        try {
            payload = encode(prompt.params());
        } catch (JsonProcessingException e) {
            return CompletableFuture.failedFuture(e);
        }
        return qubes.call(prompt.guivm(), "policy.Ask", payload);
    }

    @Override
    public void notify(Notification n) {
        if (DOM0.equals(n.guivm())) {
            dom0Notifier.notify(n);
            return;
        }
        try {
            qubes.call(n.guivm(), "policy.Notify", encode(n.params())).whenComplete((out, error) -> {
                if (error != null) {
                    LOG.log(Level.WARNING, "policy.Notify to {0} failed (ignored): {1}", n.guivm(), error.getMessage());
                }
            });
        } catch (JsonProcessingException | RuntimeException e) {
            LOG.log(Level.WARNING, "policy.Notify to {0} failed (ignored): {1}", n.guivm(), e.toString());
        }
    }

    private byte[] encode(Map<String, Object> params) throws JsonProcessingException {
        return json.writeValueAsString(params).getBytes(StandardCharsets.UTF_8);
    }
}
