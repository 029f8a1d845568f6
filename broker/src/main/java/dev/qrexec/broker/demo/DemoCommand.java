package dev.qrexec.broker.demo;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code qrexec demo}: the whole system on sandbox qubes (or sim), a few real calls from
 * {@code work} into disposables, then a clean shutdown. Exits 0 when every call behaved and
 * nothing was left behind, 1 otherwise (with the reason on stdout).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a small qrexec system, open URLs and a file in preloaded disposables, stop cleanly.")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--state-dir", description = "state directory, fresh or absent, short (sockets live in it);"
            + " default: a new /tmp/qd-* directory")
    Path stateDir;

    @Option(names = "--backend", description = "auto (sandbox if it works, else sim), sandbox or sim"
            + " (default ${DEFAULT-VALUE})", defaultValue = "auto")
    String backend;

    @Option(names = "--keep-state", description = "keep the state directory (console logs) after the demo")
    boolean keepState;

    @Option(names = "--preload-timeout", description = "seconds to wait for the preload queue (default ${DEFAULT-VALUE})",
            defaultValue = "40")
    int preloadTimeout;

    @Override
    public Integer call() throws IOException {
        quietLogs();
        Path dir = stateDir;
        if (dir == null) {
            dir = Files.createTempDirectory(Path.of("/tmp"), "qd-");
        } else if (Files.isDirectory(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    System.err.println("qrexec demo: --state-dir " + dir + " is not empty; give a fresh directory");
                    return 2;
                }
            }
        }
        try {
            DemoScenario.Report report = new DemoScenario(dir, backend, keepState, System.out,
                    Duration.ofSeconds(preloadTimeout)).run();
            return report.ok() ? 0 : 1;
        } catch (IllegalArgumentException e) {
            System.err.println("qrexec demo: " + e.getMessage());
            return 2;
        }
    }

    /**
     * The daemon logs every decision and life-cycle step at INFO, which would bury the rows; the demo
     * shows warnings only, unless {@code QREXEC_LOG_LEVEL} (a java.util.logging level) says otherwise.
     */
    private static void quietLogs() {
        java.util.logging.Level level = java.util.logging.Level.WARNING;
        String override = System.getenv("QREXEC_LOG_LEVEL");
        if (override != null && !override.isBlank()) {
            try {
                level = java.util.logging.Level.parse(override.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                System.err.println("qrexec demo: ignoring QREXEC_LOG_LEVEL=" + override + ": not a level");
            }
        }
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(level);
        for (var handler : root.getHandlers()) {
            handler.setLevel(level);
        }
    }

    public static int execute(String... args) {
        return new CommandLine(new DemoCommand()).execute(args);
    }
}
