package dev.qrexec.policy.cli;

import dev.qrexec.policy.conformance.ConformanceReport;
import dev.qrexec.policy.conformance.ConformanceRunner;
import dev.qrexec.policy.conformance.Mismatch;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qrexec-policy conformance CASES.jsonl}: run a corpus of reference answers against the engine. */
@Command(name = "conformance",
        description = {
            "Load every policy directory of a conformance corpus (format: conformance/README.md), decide its "
                    + "requests and compare with the reference's answers and daemon replies.",
            "Prints each mismatch, then 'conformance: N passed, M failed'.",
            "Exit status: 0 when every case agrees, 1 when one does not, 2 on usage or I/O errors."},
        mixinStandardHelpOptions = true,
        version = PolicyCli.VERSION)
final class ConformanceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CASES.jsonl", description = "The corpus, one policy directory per line.")
    Path cases;

    @Option(names = "--fixtures", paramLabel = "DIR",
            description = "Directory of the system-info fixtures (default: fixtures/ beside the corpus).")
    Path fixtures;

    @Override
    public Integer call() {
        CliLogging.threshold(java.util.logging.Level.OFF);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path fixturesDir = fixtures != null ? fixtures : cases.toAbsolutePath().getParent().resolve("fixtures");
        if (!Files.isRegularFile(cases)) {
            err.println("qrexec-policy conformance: " + cases + ": no such file");
            return 2;
        }
        if (!Files.isDirectory(fixturesDir)) {
            err.println("qrexec-policy conformance: " + fixturesDir + ": no such directory");
            return 2;
        }
        ConformanceReport report;
        try {
            report = new ConformanceRunner(cases, fixturesDir).run();
        } catch (IOException | RuntimeException e) {
            err.println("qrexec-policy conformance: " + e.getMessage());
            return 2;
        }
        for (Mismatch m : report.mismatches()) {
            out.print(m.diff());
        }
        int failed = report.mismatches().size();
        out.println("conformance: " + (report.cases() - failed) + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
