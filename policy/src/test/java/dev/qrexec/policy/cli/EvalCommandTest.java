package dev.qrexec.policy.cli;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.testing.Fixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    private String system;
    private String policy;

    @BeforeEach
    void files() {
        system = write(tmp.resolve("system.json"), Fixtures.SYSTEM_JSON).toString();
        write(tmp.resolve("d/30-user.policy"), String.join("\n",
                "qubes.Filecopy * work vault allow user=root",
                "test.Ask * work @anyvm ask default_target=vault",
                "test.Deny * work vault deny notify=no",
                ""));
        policy = tmp.resolve("d").toString();
    }

    private CliRun eval(String... request) {
        String[] args = new String[request.length + 4];
        args[0] = "eval";
        args[1] = "--system-info=" + system;
        args[2] = "--policy-dir=" + policy;
        args[3] = "--argument=+";
        System.arraycopy(request, 0, args, 4, request.length);
        return CliRun.run(args);
    }

    @Test
    void singleAllowInTheCorpusShape() {
        CliRun r = eval("--service=qubes.Filecopy", "--source=work", "--target=vault");
        assertEquals(0, r.exit(), r.err());
        assertEquals("{\"autostart\":true,\"daemon_reply\":\"user=root\\nresult=allow\\ntarget=vault\\ntarget_uuid=uuid:"
                + Fixtures.VAULT_UUID + "\\nautostart=True\\nrequested_target=vault\",\"notify\":false,"
                + "\"requested_target\":\"vault\",\"result\":\"allow\",\"rule\":\"30-user.policy:1\",\"target\":\"vault\","
                + "\"user\":\"root\"}\n", r.out());
    }

    @Test
    void askInNormalModeHasNoDaemonReplyButAssumeYesHasOne() throws IOException {
        JsonNode ask = JSON.readTree(eval("--service=test.Ask", "--source=work", "--target=vault").out());
        assertEquals("ask", ask.get("result").asText());
        assertEquals("[\"default-dvm\",\"disp123\",\"vault\"]".replace("\"default-dvm\",", "\"@dispvm:default-dvm\",\"default-dvm\","),
                ask.get("targets").toString());
        assertEquals("vault", ask.get("default_target").asText());
        assertTrue(ask.get("daemon_reply").isNull());

        JsonNode yes = JSON.readTree(eval("--service=test.Ask", "--source=work", "--target=vault",
                "--assume-yes-for-ask").out());
        assertTrue(yes.get("daemon_reply").asText().startsWith("user=DEFAULT\nresult=allow\ntarget=vault\n"));
        JsonNode just = JSON.readTree(eval("--service=test.Ask", "--source=work", "--target=vault",
                "--just-evaluate").out());
        assertEquals("result=deny", just.get("daemon_reply").asText());
    }

    @Test
    void denyCarriesMessageAndNotify() throws IOException {
        JsonNode deny = JSON.readTree(eval("--service=test.Deny", "--source=work", "--target=vault").out());
        assertEquals("deny", deny.get("result").asText());
        assertEquals("denied by policy 30-user.policy:3", deny.get("message").asText());
        assertEquals(false, deny.get("notify").asBoolean());
        JsonNode bad = JSON.readTree(eval("--service=test.Deny", "--source=work", "--target=@anyvm").out());
        assertTrue(bad.get("request_error").asBoolean());
    }

    @Test
    void explainListsTheRulesConsidered() throws IOException {
        JsonNode r = JSON.readTree(eval("--service=test.Deny", "--source=work", "--target=vault", "--explain").out());
        JsonNode explain = r.get("explain");
        assertEquals(3, explain.size());
        assertEquals("30-user.policy:1", explain.get(0).get("rule").asText());
        assertEquals(false, explain.get(0).get("matched").asBoolean());
        assertEquals("service", explain.get(0).get("column").asText());
        assertEquals(true, explain.get(2).get("matched").asBoolean());
        assertEquals("test.Deny * work vault deny notify=no", explain.get(2).get("text").asText());
    }

    @Test
    void requestLinesOnStdinGiveOneResultLineEach() throws IOException {
        String stdin = """
                {"service": "qubes.Filecopy", "argument": "+", "source": "work", "target": "vault", "just_evaluate": true}
                {"service": "test.Deny", "argument": "+x", "source": "work", "target": "vault"}

                not json
                {"service": "x"}
                """;
        CliRun r = CliRun.withStdin(stdin, "eval", "--system-info", system, "--policy-dir", policy);
        assertEquals(1, r.exit(), "two bad lines");
        String[] lines = r.outLines();
        assertEquals(4, lines.length, r.out());
        assertEquals("result=allow", JSON.readTree(lines[0]).get("daemon_reply").asText());
        assertEquals("denied by policy 30-user.policy:3", JSON.readTree(lines[1]).get("message").asText());
        assertTrue(JSON.readTree(lines[2]).get("error").asText().startsWith("stdin:4: "), lines[2]);
        assertEquals("stdin:5: missing \"source\"", JSON.readTree(lines[3]).get("error").asText());
    }

    @Test
    void brokenPolicyAnswersLoadError() throws IOException {
        write(tmp.resolve("d/40-bad.policy"), "* * work vault allow target=@anyvm\n");
        CliRun r = eval("--service=qubes.Filecopy", "--source=work", "--target=vault");
        assertEquals(0, r.exit());
        JsonNode n = JSON.readTree(r.out());
        assertEquals("load-error", n.get("result").asText());
        assertEquals("40-bad.policy:1: invalid redirect token: '@anyvm'", n.get("message").asText());
        assertEquals("result=deny", n.get("daemon_reply").asText());
        assertTrue(r.err().contains("every request is denied"), r.err());
    }

    @Test
    void usageErrors() {
        assertEquals(2, eval("--service=x").exit(), "no --source");
        CliRun badArg = CliRun.run("eval", "--system-info", system, "--policy-dir", policy, "--service", "s",
                "--source", "work", "--argument", "x");
        assertEquals(2, badArg.exit());
        assertTrue(badArg.err().contains("--argument must start with '+'"), badArg.err());
        assertEquals(2, CliRun.run("eval", "--policy-dir", policy).exit(), "no --system-info");
    }

    /** The first corpus directories, fed through eval: every engine field must equal the reference's. */
    @Test
    void agreesWithTheCorpusOnItsFirstDirectories() throws IOException {
        Path corpus = Path.of(System.getProperty("qrexec.root", ".."), "..", "shared", "conformance");
        Path cases = corpus.resolve("policy-cases.jsonl");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(cases), "no corpus at " + cases);
        int checked = 0;
        try (BufferedReader in = Files.newBufferedReader(cases)) {
            for (int d = 0; d < 25; d++) {
                JsonNode dir = JSON.readTree(in.readLine());
                Path policyDir = tmp.resolve("c" + d);
                for (Iterator<Map.Entry<String, JsonNode>> it = dir.get("files").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    write(policyDir.resolve(f.getKey()), f.getValue().asText());
                }
                Files.createDirectories(policyDir);
                StringBuilder stdin = new StringBuilder();
                for (JsonNode c : dir.get("cases")) {
                    stdin.append(c.get("request")).append('\n');
                }
                CliRun r = CliRun.withStdin(stdin.toString(), "eval",
                        "--system-info", corpus.resolve("fixtures").resolve(dir.get("system_info").asText() + ".json").toString(),
                        "--policy-dir", policyDir.toString(), "--legacy-dir", tmp.resolve("none").toString());
                String[] lines = r.outLines();
                int i = 0;
                for (JsonNode c : dir.get("cases")) {
                    JsonNode expected = c.get("expected");
                    JsonNode actual = JSON.readTree(lines[i++]);
                    if (expected.has("reference_crash")) {
                        assertEquals("deny", actual.get("result").asText());
                        continue;
                    }
                    for (Iterator<String> names = expected.fieldNames(); names.hasNext(); ) {
                        String name = names.next();
                        if (!name.equals("daemon_reply_crash")) {
                            assertEquals(expected.get(name), actual.get(name), dir.get("id") + " " + c.get("request") + " " + name);
                        }
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
    }
}
