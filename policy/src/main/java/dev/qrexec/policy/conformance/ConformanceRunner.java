package dev.qrexec.policy.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a conformance cases file (format: {@code conformance/README.md}): for each policy
 * directory, writes its files into a fresh temporary directory, loads it from scratch, evaluates
 * every request and compares both the engine result and the daemon reply with the reference's.
 */
public final class ConformanceRunner {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path casesFile;
    private final Path fixturesDir;
    private final Map<String, SystemInfo> fixtures = new HashMap<>();

    /** Fixtures are read from {@code fixtures/} beside the cases file. */
    public ConformanceRunner(Path casesFile) {
        this(casesFile, casesFile.toAbsolutePath().getParent().resolve("fixtures"));
    }

    public ConformanceRunner(Path casesFile, Path fixturesDir) {
        this.casesFile = casesFile;
        this.fixturesDir = fixturesDir;
    }

    /** Runs every case; I/O problems with the cases file or the temp directory are thrown. */
    public ConformanceReport run() throws IOException {
        List<Mismatch> mismatches = new ArrayList<>();
        int directories = 0;
        int cases = 0;
        Path work = Files.createTempDirectory("qrexec-conformance-");
        try (BufferedReader in = Files.newBufferedReader(casesFile, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode dir = JSON.readTree(line);
                Path policyDir = work.resolve("d" + directories);
                directories++;
                cases += runDirectory(dir, policyDir, mismatches);
                deleteTree(policyDir);
            }
        } finally {
            deleteTree(work);
        }
        return new ConformanceReport(directories, cases, mismatches);
    }

    private int runDirectory(JsonNode dir, Path policyDir, List<Mismatch> mismatches) throws IOException {
        String id = dir.path("id").asText();
        SystemInfo system = fixture(dir.path("system_info").asText());
        Files.createDirectories(policyDir);
        for (Map.Entry<String, JsonNode> file : dir.path("files").properties()) {
            Path p = policyDir.resolve(file.getKey()).normalize();
            if (!p.startsWith(policyDir)) {
                throw new IOException(id + ": file name escapes the policy directory: " + file.getKey());
            }
            Files.createDirectories(p.getParent());
            Files.writeString(p, file.getValue().asText(), StandardCharsets.UTF_8);
        }
        Policy policy;
        PolicyLoadException loadError = null;
        try {
            policy = PolicyLoader.load(new PolicyLocation(List.of(policyDir), policyDir.resolve("no-legacy-policy")));
        } catch (PolicyLoadException e) {
            loadError = e;
            policy = Policy.denyAll(e);
        }
        int index = 0;
        for (JsonNode c : dir.path("cases")) {
            JsonNode req = c.path("request");
            JsonNode exp = c.path("expected");
            PolicyRequest request = new PolicyRequest(req.path("service").asText(), req.path("argument").asText(),
                    req.path("source").asText(), req.path("target").asText(), "",
                    EvaluationMode.of(req.path("just_evaluate").asBoolean(false),
                            req.path("assume_yes_for_ask").asBoolean(false)));
            Decision decision = policy.evaluate(request, system);
            DaemonReply reply = loadError != null ? DaemonReply.forLoadFailure(loadError)
                    : DaemonReply.render(request, decision, system);
            Map<String, Object> expected = expected(exp);
            Map<String, Object> actual = actual(exp, decision, loadError, reply);
            if (!expected.equals(actual)) {
                mismatches.add(new Mismatch(id, index, req.toString(), expected, actual));
            }
            index++;
        }
        return index;
    }

    /** The compared fields of the reference's answer. */
    private static Map<String, Object> expected(JsonNode exp) {
        Map<String, Object> m = new LinkedHashMap<>();
        String result = exp.path("result").asText();
        m.put("result", result);
        if (exp.has("reference_crash")) {
            m.put("reference_crash", true);
        } else {
            switch (result) {
                case "allow" -> {
                    for (String k : List.of("target", "user", "autostart", "notify", "rule", "requested_target")) {
                        m.put(k, value(exp.get(k)));
                    }
                }
                case "ask" -> {
                    List<Object> targets = new ArrayList<>();
                    exp.path("targets").forEach(t -> targets.add(t.asText()));
                    m.put("targets", targets);
                    for (String k : List.of("default_target", "user", "autostart", "notify", "rule", "requested_target")) {
                        m.put(k, value(exp.get(k)));
                    }
                }
                case "deny" -> {
                    m.put("notify", value(exp.get("notify")));
                    m.put("message", value(exp.get("message")));
                    m.put("request_error", exp.path("request_error").asBoolean(false));
                }
                case "load-error" -> m.put("message", value(exp.get("message")));
                default -> m.put("unknown_result", result);
            }
        }
        // absent daemon_reply (a reference crash) must be answered with a deny; null = an interactive ask
        if (exp.has("daemon_reply")) {
            m.put("daemon_reply", value(exp.get("daemon_reply")));
        } else {
            m.put("daemon_reply", DaemonReply.DENY);
        }
        return m;
    }

    /** Our answer, in the shape of {@link #expected}. */
    private static Map<String, Object> actual(JsonNode exp, Decision decision, PolicyLoadException loadError,
                                              DaemonReply reply) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (loadError != null) {
            m.put("result", "load-error");
            m.put("message", loadError.getMessage());
        } else if (exp.has("reference_crash")) {
            m.put("result", decision instanceof Decision.Deny ? "deny" : kind(decision));
            m.put("reference_crash", true);
        } else if (decision instanceof Decision.Allow a) {
            ExpectedFields.putAllow(m, a);
        } else if (decision instanceof Decision.Ask a) {
            ExpectedFields.putAsk(m, a);
        } else if (decision instanceof Decision.Deny d) {
            m.put("result", "deny");
            m.put("notify", d.notifyUser());
            m.put("message", d.message());
            m.put("request_error", d.requestError());
            if (d.isReferenceCrash()) {
                m.put("reference_crash_unexpected", d.referenceCrash());
            }
        }
        m.put("daemon_reply", reply.isPending() ? null : reply.text());
        return m;
    }

    private static String kind(Decision d) {
        return d instanceof Decision.Allow ? "allow" : d instanceof Decision.Ask ? "ask" : "deny";
    }

    private static Object value(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        return v.asText();
    }

    private SystemInfo fixture(String name) {
        return fixtures.computeIfAbsent(name, n -> {
            try {
                return SystemInfo.fromJson(Files.readString(fixturesDir.resolve(n + ".json")));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read fixture " + n, e);
            }
        });
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Runs the cases file given as argument and prints the report; exit status 1 on mismatches. */
    public static void main(String[] args) throws IOException {
        ConformanceReport report = new ConformanceRunner(Path.of(args[0])).run();
        System.out.print(report.render(args.length > 1 ? Integer.parseInt(args[1]) : 20));
        System.exit(report.passed() ? 0 : 1);
    }
}
