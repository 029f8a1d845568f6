package dev.qrexec.tests.e2e;

import dev.qrexec.broker.demo.CallRow;
import dev.qrexec.broker.demo.DemoScenario;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ./qrexec demo}, run in-process: on sim, and on sandbox where it works (required under
 * CI). Checks each row (decision, rule, disposable, preloaded or cold, exit code), the printed
 * output, and that nothing is left behind.
 */
@Timeout(150)
class DemoScenarioTest {

    @Test
    void demoOnSim() throws Exception {
        Run run = run("sim");
        assertTrue(run.report.backendLine().startsWith("backend: sim"), run.output);
        checkRows(run);
    }

    @Test
    void demoOnSandbox() throws Exception {
        Run run = run("auto");
        if (!run.report.backendLine().startsWith("backend: sandbox")) {
            SandboxRequirement.unavailable(run.report.backendLine());
        }
        checkRows(run);
    }

    private record Run(DemoScenario.Report report, String output, Path stateDir) {
    }

    private static Run run(String backend) throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "qdt");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DemoScenario.Report report = new DemoScenario(dir, backend, false,
                new PrintStream(buf, true, StandardCharsets.UTF_8), Duration.ofSeconds(60)).run();
        return new Run(report, buf.toString(StandardCharsets.UTF_8), dir);
    }

    private static void checkRows(Run run) {
        DemoScenario.Report r = run.report;
        assertEquals(List.of(), r.failures(), run.output);
        assertEquals(List.of(), r.leftovers(), run.output);
        assertFalse(Files.exists(run.stateDir), "state directory deleted: " + run.output);
        List<CallRow> rows = r.rows();
        assertEquals(6, rows.size(), run.output);

        CallRow url = rows.get(0);
        assertEquals("allow", url.decision());
        assertEquals("30-user.policy:7", url.rule(), "qubes.OpenURL work @dispvm allow");
        assertEquals("preloaded", url.origin(), run.output);
        assertTrue(url.disposable().matches("disp\\d+"), url.disposable());
        assertEquals(0, url.exitCode());

        CallRow file = rows.get(1);
        assertEquals("90-default.policy:5", file.rule(), "qubes.OpenInVM @anyvm @dispvm allow");
        assertEquals("preloaded", file.origin(), run.output);
        assertNotEquals(url.disposable(), file.disposable(), "one disposable per call");

        CallRow third = rows.get(2);
        assertEquals(0, third.exitCode());
        assertTrue(third.disposable().matches("disp\\d+"), run.output);
        assertTrue(List.of("preloaded", "cold").contains(third.origin()), run.output);

        CallRow copy = rows.get(3);
        assertEquals("ask", copy.decision(), "qubes.Filecopy work personal ask: " + run.output);
        assertEquals("30-user.policy:21", copy.rule());
        assertEquals(0, copy.exitCode(), "the scripted prompt chose the default target: " + run.output);
        assertEquals("-", copy.disposable());

        CallRow shell = rows.get(4);
        assertEquals("deny", shell.decision());
        assertEquals("90-default.policy:18", shell.rule(), "qubes.VMShell @anyvm @anyvm deny");
        assertEquals(126, shell.exitCode());
        assertEquals("-", shell.disposable());

        CallRow afterRefill = rows.get(5);
        assertEquals("preloaded", afterRefill.origin(), "the refilled queue serves the next call: " + run.output);
        assertTrue(rows.stream().map(CallRow::disposable).filter(d -> !d.equals("-")).distinct().count() == 4,
                "four calls, four disposables: " + run.output);

        assertTrue(run.output.contains("queue refilled in"), run.output);
        assertTrue(run.output.contains("leftovers: none"), run.output);
        assertTrue(run.output.contains(CallRow.HEADER), run.output);
    }
}
