package dev.qrexec.policy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.explain.Explanation;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.reload.SystemInfoFile;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code qrexec-policy eval}: decide requests against a policy, offline. */
@Command(name = "eval",
        description = {
            "Decide one request given as options, or one request per JSON line on standard input "
                    + "(the conformance corpus's 'request' objects: service, argument, source, target, and "
                    + "optionally assume_yes_for_ask, just_evaluate, requested_source).",
            "Prints one JSON line per request in the shape of the corpus's 'expected' objects, including "
                    + "daemon_reply (the exact policy.sock answer; null for an ask waiting for the user).",
            "Exit status: 0 when every request was decided (whatever the decision), 1 when an input line "
                    + "was not a valid request, 2 on usage errors."},
        mixinStandardHelpOptions = true,
        version = PolicyCli.VERSION)
final class EvalCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    @Spec
    CommandSpec spec;

    @ParentCommand
    PolicyCli parent;

    @Option(names = "--system-info", required = true, paramLabel = "FILE", description = "System info (GetSystemInfo JSON).")
    Path systemInfo;

    @Option(names = "--policy-dir", required = true, paramLabel = "DIR",
            description = "A policy directory; repeat for several, in priority order.")
    List<Path> policyDirs;

    @Option(names = "--legacy-dir", paramLabel = "DIR", defaultValue = "/etc/qubes-rpc/policy",
            description = "Directory spliced in by !compat-4.0 (default: ${DEFAULT-VALUE}).")
    Path legacyDirectory;

    @Option(names = "--explain", description = "Add 'explain': the rules considered and why each matched or not.")
    boolean explain;

    @Option(names = "--service", paramLabel = "NAME", description = "Service of a single request (without argument).")
    String service;

    @Option(names = "--argument", paramLabel = "+ARG", defaultValue = "+",
            description = "Argument, starting with '+' (default: '+', the empty argument).")
    String argument;

    @Option(names = "--source", paramLabel = "QUBE", description = "Calling qube.")
    String source;

    @Option(names = "--target", paramLabel = "QUBE", defaultValue = "",
            description = "Target as the caller typed it (default: empty, i.e. @default).")
    String target;

    @Option(names = "--requested-source", paramLabel = "QUBE", defaultValue = "",
            description = "RemoteVM the source relays for (default: none).")
    String requestedSource;

    @Option(names = "--assume-yes-for-ask", description = "Answer an ask with the intended target (spec 5.4).")
    boolean assumeYesForAsk;

    @Option(names = "--just-evaluate", description = "Only say allow or deny; an ask is a deny.")
    boolean justEvaluate;

    @Override
    public Integer call() throws IOException {
        CliLogging.threshold(java.util.logging.Level.WARNING);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SystemInfo system;
        try {
            system = SystemInfoFile.read(systemInfo);
        } catch (IOException e) {
            err.println("qrexec-policy eval: cannot read system info: " + e.getMessage());
            return 2;
        }
        PolicyDirs dirs = new PolicyDirs(policyDirs, legacyDirectory);
        Policy policy = PolicyLoader.loadOrDenyAll(dirs.location());
        policy.loadError().ifPresent(e -> err.println("qrexec-policy eval: policy does not load, every request is denied: "
                + e.getMessage()));
        if (service != null) {
            if (source == null) {
                err.println("qrexec-policy eval: --service needs --source");
                return 2;
            }
            if (!argument.startsWith("+")) {
                err.println("qrexec-policy eval: --argument must start with '+', got '" + argument + "'");
                return 2;
            }
            PolicyRequest request = new PolicyRequest(service, argument, source, target, requestedSource,
                    EvaluationMode.of(justEvaluate, assumeYesForAsk));
            out.println(JSON.writeValueAsString(answer(policy, request, system)));
            return 0;
        }
        return evalLines(policy, system, out, err);
    }

    private int evalLines(Policy policy, SystemInfo system, PrintWriter out, PrintWriter err) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(parent.stdin(), StandardCharsets.UTF_8));
        int bad = 0;
        int lineNumber = 0;
        String line;
        while ((line = in.readLine()) != null) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            PolicyRequest request;
            try {
                request = parseRequest(line);
            } catch (IllegalArgumentException | JsonProcessingException e) {
                bad++;
                String reason = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
                err.println("qrexec-policy eval: stdin:" + lineNumber + ": " + reason);
                out.println(JSON.writeValueAsString(Map.of("error", "stdin:" + lineNumber + ": " + reason)));
                continue;
            }
            out.println(JSON.writeValueAsString(answer(policy, request, system)));
        }
        return bad == 0 ? 0 : 1;
    }

    private Map<String, Object> answer(Policy policy, PolicyRequest request, SystemInfo system) {
        Map<String, Object> result;
        if (explain) {
            Explanation explanation = policy.explain(request, system);
            result = new TreeMap<>(DecisionJson.of(policy, explanation.decision(),
                    DaemonReply.render(request, explanation.decision(), system)));
            result.put("explain", DecisionJson.explain(explanation));
        } else {
            Decision decision = policy.evaluate(request, system);
            result = DecisionJson.of(policy, decision, DaemonReply.render(request, decision, system));
        }
        return result;
    }

    /** A corpus-shaped request object. */
    static PolicyRequest parseRequest(String line) throws JsonProcessingException {
        JsonNode node = JSON.readTree(line);
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return new PolicyRequest(
                text(node, "service", null),
                text(node, "argument", "+"),
                text(node, "source", null),
                text(node, "target", ""),
                text(node, "requested_source", ""),
                EvaluationMode.of(flag(node, "just_evaluate"), flag(node, "assume_yes_for_ask")));
    }

    private static String text(JsonNode node, String field, String fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (fallback == null) {
                throw new IllegalArgumentException("missing \"" + field + "\"");
            }
            return fallback;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a string");
        }
        return v.textValue();
    }

    private static boolean flag(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("\"" + field + "\" must be true or false");
        }
        return v.booleanValue();
    }
}
