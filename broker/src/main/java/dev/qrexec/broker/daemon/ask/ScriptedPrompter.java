package dev.qrexec.broker.daemon.ask;

import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.AskPrompter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Answers asks from a list of rules instead of a person, for tests and the demo. One rule a line,
 * {@code #} comments:
 * <pre>
 * # service        source   answer
 * qubes.Filecopy   work     default          allow to the ask's default target (deny if it has none)
 * qubes.OpenURL    *        allow:@dispvm:default-dvm
 * *                *        deny
 * </pre>
 * {@code service} is a service name or {@code svc+arg}, {@code source} a qube name; {@code *}
 * matches anything. The first matching rule answers; no match is {@code deny}. Answers are
 * {@code deny}, {@code default}, {@code first} (the first candidate) or a literal
 * {@code allow:TARGET}, passed on as is (the policy then checks the choice).
 */
public final class ScriptedPrompter implements AskPrompter {

    private record Rule(String service, String source, String answer) {
        boolean matches(String svc, String arg, String src) {
            boolean serviceMatches = service.equals("*") || service.equals(svc) || service.equals(svc + arg);
            return serviceMatches && (source.equals("*") || source.equals(src));
        }
    }

    private final List<Rule> rules;

    private ScriptedPrompter(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Parses rules; a malformed line fails with its line number. */
    public static ScriptedPrompter parse(String text) {
        List<Rule> rules = new ArrayList<>();
        int lineNo = 0;
        for (String raw : text.split("\n", -1)) {
            lineNo++;
            int hash = raw.indexOf('#');
            String line = (hash < 0 ? raw : raw.substring(0, hash)).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length != 3) {
                throw new IllegalArgumentException("line " + lineNo + ": expected 'SERVICE SOURCE ANSWER', got '"
                        + line + "'");
            }
            String answer = f[2];
            if (!answer.equals("deny") && !answer.equals("default") && !answer.equals("first")
                    && !(answer.startsWith("allow:") && answer.length() > 6)) {
                throw new IllegalArgumentException("line " + lineNo + ": answer must be deny, default, first or"
                        + " allow:TARGET, got '" + answer + "'");
            }
            rules.add(new Rule(f[0], f[1], answer));
        }
        return new ScriptedPrompter(rules);
    }

    public static ScriptedPrompter load(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public CompletableFuture<String> ask(AskPrompt prompt) {
        return CompletableFuture.completedFuture(answer(prompt.params()));
    }

    /** The answer for a {@code policy.Ask} payload. */
    String answer(Map<String, Object> params) {
        String service = String.valueOf(params.get("service"));
        String argument = String.valueOf(params.getOrDefault("argument", ""));
        String source = String.valueOf(params.get("source"));
        for (Rule r : rules) {
            if (r.matches(service, argument, source)) {
                return switch (r.answer()) {
                    case "deny" -> "deny";
                    case "default" -> {
                        Object d = params.get("default_target");
                        yield d == null || d.toString().isEmpty() ? "deny" : "allow:" + d;
                    }
                    case "first" -> params.get("targets") instanceof List<?> t && !t.isEmpty()
                            ? "allow:" + t.get(0) : "deny";
                    default -> r.answer();
                };
            }
        }
        return "deny";
    }
}
