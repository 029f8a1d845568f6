package dev.qrexec.tests.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.conformance.ConformanceReport;
import dev.qrexec.policy.conformance.ConformanceRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * Every case of the reference's conformance corpus ({@code ../shared/conformance/policy-cases.jsonl}):
 * 2,500 policy directories, 15,000 requests, engine result and daemon reply compared.
 */
class PolicyConformanceTest {

    private static Path casesFile() {
        String root = System.getProperty("qrexec.root", ".");
        return Path.of(root).resolve("../shared/conformance/policy-cases.jsonl").normalize();
    }

    @Test
    void allReferenceCasesAgree() throws Exception {
        Path cases = casesFile();
        // 15,000 requests log one line each (allowed/denied); keep the build output readable and fast
        Logger policyLogger = Logger.getLogger("dev.qrexec.policy");
        Level saved = policyLogger.getLevel();
        policyLogger.setLevel(Level.SEVERE);
        try {
            check(cases);
        } finally {
            policyLogger.setLevel(saved);
        }
    }

    private static void check(Path cases) throws Exception {
        assertTrue(Files.isRegularFile(cases), "conformance corpus not found at " + cases);
        ConformanceReport report = new ConformanceRunner(cases).run();
        assertEquals(15_000, report.cases(), "the corpus should hold 15,000 requests");
        assertTrue(report.passed(), () -> report.render(25));
    }
}
