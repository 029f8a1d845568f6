package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.broker.daemon.dom0.Dom0Service;
import dev.qrexec.broker.daemon.dom0.ServiceCall;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.AskPrompter;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code policy.Ask} served in dom0, for a policy daemon whose sources have dom0 as GUI qube: stdin
 * is the JSON payload of spec 5.8, stdout the answer of dom0's prompt ({@code deny} or
 * {@code allow:TARGET}). A malformed question, no prompt or no answer within the timeout gives no
 * answer and exit 1, which the policy daemon treats as a denial. Runs on a dom0 service thread,
 * which it holds while the user thinks (bounded by the timeout).
 */
public final class Dom0AskService implements Dom0Service {

    private static final Logger LOG = System.getLogger(Dom0AskService.class.getName());
    static final int MAX_INPUT = 64 * 1024;

    private final ObjectMapper json = new ObjectMapper();
    private final AskPrompter prompt;
    private final Duration timeout;

    public Dom0AskService(AskPrompter prompt, Duration timeout) {
        this.prompt = Objects.requireNonNull(prompt, "prompt");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    @Override
    public int run(ServiceCall call, InputStream stdin, OutputStream stdout) throws IOException, InterruptedException {
        byte[] input = stdin.readNBytes(MAX_INPUT + 1);
        if (input.length > MAX_INPUT) {
            return refuse(call, "question longer than " + MAX_INPUT + " bytes");
        }
        Map<String, Object> params;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = json.readValue(input, LinkedHashMap.class);
            params = parsed;
        } catch (IOException e) {
            return refuse(call, "the question is not a JSON object");
        }
        if (!(params.get("source") instanceof String) || !(params.get("service") instanceof String)
                || !(params.get("targets") instanceof java.util.List<?> targets) || targets.isEmpty()) {
            return refuse(call, "the question lacks source, service or targets");
        }
        var answer = prompt.ask(new AskPrompt(GuiPrompter.DOM0, params));
        try {
            String text = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            stdout.write(text.getBytes(StandardCharsets.UTF_8));
            return 0;
        } catch (TimeoutException e) {
            answer.completeExceptionally(e);
            return refuse(call, "no answer within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            return refuse(call, String.valueOf(e.getCause().getMessage()));
        }
    }

    private static int refuse(ServiceCall call, String why) {
        LOG.log(Level.WARNING, "policy.Ask from {0}: no answer: {1}", call.source(), why);
        return 1;
    }
}
