package dev.qrexec.policy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConformanceCommandTest {

    private static final Path CORPUS = Path.of(System.getProperty("qrexec.root", ".."), "..", "shared", "conformance");

    @TempDir
    Path tmp;
    private List<String> head;

    @BeforeEach
    void readHead() throws IOException {
        Path cases = CORPUS.resolve("policy-cases.jsonl");
        assumeTrue(Files.isRegularFile(cases), "no corpus at " + cases);
        head = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(cases)) {
            for (int i = 0; i < 20; i++) {
                head.add(in.readLine());
            }
        }
    }

    @Test
    void agreeingCorpusPassesWithExitZero() throws IOException {
        Path cases = Files.write(tmp.resolve("cases.jsonl"), head);
        CliRun r = CliRun.run("conformance", cases.toString(), "--fixtures", CORPUS.resolve("fixtures").toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().matches("conformance: \\d+ passed, 0 failed\n"), r.out());
    }

    @Test
    void aWrongExpectationIsPrintedAndFails() throws IOException {
        List<String> lines = new ArrayList<>(head);
        lines.set(0, lines.get(0).replaceFirst("\"message\": \"no matching rule found\"", "\"message\": \"tampered\""));
        Path cases = Files.write(tmp.resolve("cases.jsonl"), lines);
        CliRun r = CliRun.run("conformance", cases.toString(), "--fixtures", CORPUS.resolve("fixtures").toString());
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("tampered"), r.out());
        assertTrue(r.out().matches("(?s).*\nconformance: \\d+ passed, 1 failed\n"), r.out());
    }

    @Test
    void missingFilesAreUsageErrors() {
        assertEquals(2, CliRun.run("conformance", tmp.resolve("none.jsonl").toString()).exit());
    }
}
