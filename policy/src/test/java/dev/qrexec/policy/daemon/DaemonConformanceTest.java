package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.testing.Fixtures;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole conformance corpus through a real policy.sock: for every request, the bytes the
 * daemon writes must be the reference's {@code daemon_reply}. Two documented differences: an ask in
 * normal mode (reference: a prompt, {@code null} in the corpus) and a reference crash (no reply)
 * are both answered {@code result=deny}.
 */
class DaemonConformanceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CORPUS = Path.of(System.getProperty("qrexec.root", ".."), "..", "shared", "conformance");

    @TempDir
    Path tmp;

    @Test
    void everyDaemonReplyOfTheCorpusByteForByte() throws IOException {
        Path cases = CORPUS.resolve("policy-cases.jsonl");
        assumeTrue(Files.isRegularFile(cases), "no corpus at " + cases);
        List<String> mismatches = new ArrayList<>();
        // 15,000 decisions logged at INFO would dominate the run time.
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        java.util.logging.Level saved = root.getLevel();
        root.setLevel(java.util.logging.Level.WARNING);
        int checked;
        try {
            checked = runCorpus(cases, mismatches);
        } finally {
            root.setLevel(saved);
        }
        assertEquals(List.of(), mismatches);
        assertTrue(checked >= 15_000, "checked " + checked);
    }

    /** Sends every request of the corpus over the socket; returns how many, collects the first mismatches. */
    private int runCorpus(Path cases, List<String> mismatches) throws IOException {
        Map<String, SystemInfo> fixtures = new HashMap<>();
        AtomicReference<Policy> policy = new AtomicReference<>();
        AtomicReference<SystemInfo> system = new AtomicReference<>();
        int checked = 0;
        // No reply cache: every directory loads a new policy, and a fresh evaluation is what is checked.
        try (PolicySocketServer server = PolicySocketServer.builder().socket(tmp.resolve("policy.sock"))
                .responder(new EngineResponder(policy::get, system::get, 0)).workerThreads(1).start();
             BufferedReader in = Files.newBufferedReader(cases)) {
            String line;
            int directory = 0;
            while ((line = in.readLine()) != null) {
                JsonNode dir = JSON.readTree(line);
                Path policyDir = tmp.resolve("d" + directory++);
                for (Iterator<Map.Entry<String, JsonNode>> it = dir.get("files").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    Fixtures.write(policyDir.resolve(f.getKey()), f.getValue().asText());
                }
                Files.createDirectories(policyDir);
                policy.set(PolicyLoader.loadOrDenyAll(new PolicyLocation(List.of(policyDir), tmp.resolve("no-legacy"))));
                system.set(fixtures.computeIfAbsent(dir.get("system_info").asText(), DaemonConformanceTest::fixture));
                for (JsonNode c : dir.get("cases")) {
                    JsonNode r = c.get("request");
                    JsonNode expected = c.get("expected").get("daemon_reply");
                    String want = expected == null || expected.isNull() ? "result=deny" : expected.asText();
                    SocketRequest request = new SocketRequest(r.get("source").asText(), r.get("target").asText(),
                            r.get("service").asText() + r.get("argument").asText(), "",
                            r.path("assume_yes_for_ask").asBoolean(false), r.path("just_evaluate").asBoolean(false));
                    String got = UnixClient.exchange(server.path(), request.toWire());
                    if (!want.equals(got) && mismatches.size() < 20) {
                        mismatches.add(dir.get("id").asText() + " " + r + "\n  want " + want.replace("\n", "\\n")
                                + "\n  got  " + got.replace("\n", "\\n"));
                    }
                    checked++;
                }
            }
        }
        return checked;
    }

    private static SystemInfo fixture(String name) {
        try {
            return SystemInfo.fromJson(Files.readString(CORPUS.resolve("fixtures").resolve(name + ".json")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
