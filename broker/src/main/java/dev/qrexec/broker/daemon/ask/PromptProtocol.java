package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qrexec.policy.reply.AskPrompt;

import java.util.List;

/**
 * The prompt socket's messages: one JSON object per line, at most {@link #MAX_LINE} bytes.
 * <pre>
 * broker → agent  {"type":"ask","id":7,"source":"work","service":"qubes.Filecopy","argument":"+",
 *                  "targets":["personal","vault"],"default_target":"personal"}
 *                 {"type":"withdraw","id":7,"reason":"timed out"}
 *                 {"type":"notify","resolution":"deny","service":..,"argument":..,"source":..,"target":..}
 * agent → broker  {"type":"answer","id":7,"answer":"allow:personal"}     (or "deny")
 * </pre>
 * The ask carries the {@code policy.Ask} payload (spec 5.8) without the icons.
 */
public final class PromptProtocol {

    /** Longest line either side accepts. */
    public static final int MAX_LINE = 64 * 1024;

    private PromptProtocol() {
    }

    static String ask(ObjectMapper json, long id, AskPrompt prompt) {
        ObjectNode line = json.createObjectNode();
        line.put("type", "ask");
        line.put("id", id);
        prompt.params().forEach((k, v) -> {
            if (!k.equals("icons")) {
                line.set(k, json.valueToTree(v));
            }
        });
        return line.toString();
    }

    static String withdraw(ObjectMapper json, long id, String reason) {
        ObjectNode line = json.createObjectNode();
        line.put("type", "withdraw");
        line.put("id", id);
        line.put("reason", reason);
        return line.toString();
    }

    /** The agent's answer line. */
    public static String answer(ObjectMapper json, long id, String answer) {
        ObjectNode line = json.createObjectNode();
        line.put("type", "answer");
        line.put("id", id);
        line.put("answer", answer);
        return line.toString();
    }

    /** A question as the agent sees it. */
    public record Question(long id, String source, String service, String argument, List<String> targets,
                           String defaultTarget) {
        static Question of(JsonNode n) {
            List<String> targets = new java.util.ArrayList<>();
            n.path("targets").forEach(t -> targets.add(t.asText()));
            return new Question(n.path("id").asLong(), n.path("source").asText(), n.path("service").asText(),
                    n.path("argument").asText(), List.copyOf(targets), n.path("default_target").asText(""));
        }
    }
}
