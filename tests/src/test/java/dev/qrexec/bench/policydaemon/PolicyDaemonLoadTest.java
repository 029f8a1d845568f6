package dev.qrexec.bench.policydaemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The load harness itself works: a short run checks every reply and reports no error. */
class PolicyDaemonLoadTest {

    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new PolicyDaemonLoad()).execute(args);
            assertEquals(0, exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(saved);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shortRunOnTheLargePolicyHasNoErrors() {
        String out = run("--rules", "1000", "--clients", "2", "--requests", "400", "--warmup", "0",
                "--duration", "30s", "--distinct", "10");
        assertTrue(out.contains("measured: 400 requests"), out);
        assertTrue(out.contains("errors: 0"), out);
    }

    @Test
    void shortRunThroughTheBrokersPolicySocketHasNoErrors() {
        String out = run("--broker", "--rules", "3", "--clients", "2", "--requests", "400", "--warmup", "0",
                "--duration", "30s");
        assertTrue(out.contains("the broker's policy.sock (BrokerServer)"), out);
        assertTrue(out.contains("measured: 400 requests"), out);
        assertTrue(out.contains("errors: 0"), out);
    }

    @Test
    void writesThePolicyForAnExternalDaemon(@TempDir Path tmp) throws Exception {
        String out = run("--rules", "7", "--write-policy", tmp.toString());
        assertTrue(out.startsWith("wrote "), out);
        assertEquals(8, Files.readAllLines(tmp.resolve("policy.d/30-load.policy")).size(), "a comment and 7 rules");
        assertTrue(Files.readString(tmp.resolve("system-info.json")).contains("\"work\""));
    }

    @Test
    void generatedPolicyKeepsTheDecidingRulesLast(@TempDir Path tmp) throws Exception {
        GeneratedPolicy.write(tmp, 10);
        var lines = Files.readAllLines(tmp.resolve("30-load.policy"));
        assertEquals(GeneratedPolicy.DECIDING, lines.subList(lines.size() - 3, lines.size()));
        assertEquals("totalRules must be at least 3, was 2", org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> GeneratedPolicy.write(tmp, 2)).getMessage());
    }

    @Test
    void histogramQuantilesAreWithinABucket() {
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++) {
            h.record(i * 1000L);
        }
        long p50 = h.quantile(0.5);
        assertTrue(p50 >= 500_000 && p50 <= 500_000 * 1.07, "p50 " + p50);
        assertEquals(1_000_000, h.max());
        assertEquals(1000, h.count());
    }
}
