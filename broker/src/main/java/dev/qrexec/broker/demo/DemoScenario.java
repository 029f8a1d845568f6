package dev.qrexec.broker.demo;

import dev.qrexec.dispvm.QueueStatus;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

/**
 * What {@code ./qrexec demo} does, as a reusable sequence: start the small system, wait for the
 * preloads, open URLs and a file in disposables from {@code work}, copy a file to {@code personal}
 * (the policy asks; the scripted prompt takes the default), one call the policy refuses, show the
 * queue refilling, stop everything and check that nothing is left behind.
 */
public final class DemoScenario {

    /** Where the demo ran and what it saw. */
    public record Report(String backendLine, List<CallRow> rows, List<String> leftovers, List<String> failures) {
        public boolean ok() {
            return failures.isEmpty() && leftovers.isEmpty();
        }
    }

    /** One call of the scenario. */
    private record Step(String target, String service, byte[] input, String label, int expectedExit) {
    }

    /** How the demo's prompt answers (ScriptedPrompter rules). */
    static final String ASK_ANSWERS = DemoSystem.FILECOPY + " " + DemoSystem.WORK + " default\n* * deny\n";

    private final Path stateDir;
    private final String backend;
    private final boolean keepState;
    private final PrintStream out;
    private final Duration preloadTimeout;

    /**
     * @param stateDir  a fresh (or absent) directory; short, because sockets live under it
     * @param backend   {@code auto}, {@code sandbox} or {@code sim}
     * @param keepState keep the state directory (for inspection) instead of deleting it
     */
    public DemoScenario(Path stateDir, String backend, boolean keepState, PrintStream out, Duration preloadTimeout) {
        this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.keepState = keepState;
        this.out = Objects.requireNonNull(out, "out");
        this.preloadTimeout = Objects.requireNonNull(preloadTimeout, "preloadTimeout");
    }

    /** The calls: URLs and a document opened in disposables, then a shell the policy never hands out. */
    private static List<Step> steps() {
        byte[] pdf = openInVmInput("report.pdf", "%PDF-1.7 quarterly numbers\n".getBytes(StandardCharsets.UTF_8));
        return List.of(
                new Step("@dispvm", "qubes.OpenURL", url("https://www.qubes-os.org/doc/"), "qubes.OpenURL https://www.qubes-os.org/doc/", 0),
                new Step("@dispvm", "qubes.OpenInVM", pdf, "qubes.OpenInVM report.pdf", 0),
                new Step("@dispvm", "qubes.OpenURL", url("https://example.org/"), "qubes.OpenURL https://example.org/", 0),
                new Step(DemoSystem.PERSONAL, DemoSystem.FILECOPY, "%PDF-1.7 quarterly\n".getBytes(StandardCharsets.UTF_8),
                        "qubes.Filecopy report.pdf (asked: default)", 0),
                new Step(DemoSystem.PERSONAL, "qubes.VMShell", new byte[0], "qubes.VMShell", 126));
    }

    private static byte[] url(String u) {
        return (u + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** qubes.OpenInVM's stdin: a 256-byte NUL-padded base name, then the file (spec qrexec-wire 8). */
    static byte[] openInVmInput(String name, byte[] content) {
        byte[] header = Arrays.copyOf(name.getBytes(StandardCharsets.UTF_8), 256);
        byte[] all = Arrays.copyOf(header, 256 + content.length);
        System.arraycopy(content, 0, all, 256, content.length);
        return all;
    }

    public Report run() {
        List<CallRow> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        String backendLine = "backend: not started";
        String instance = null;
        long t0 = System.nanoTime();
        DemoSystem system = null;
        Thread hook = null;
        try {
            out.println("qrexec demo: state in " + stateDir);
            // Nobody sits at the demo's prompt: the ask for qubes.Filecopy is answered with its default.
            system = DemoSystem.builder(stateDir).backend(backend).askAnswers(ASK_ANSWERS).start();
            // Ctrl-C still stops the qubes (the hook only runs if the demo did not finish).
            DemoSystem started = system;
            hook = new Thread(started::close, "qrexec-demo-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            instance = system.instance();
            backendLine = system.backendLine();
            out.println(backendLine);
            out.printf("system up in %d ms: dom0, %s, %s, %s, %s (default_dispvm, preload-dispvm-max 2)%n",
                    ms(t0), DemoSystem.TEMPLATE, DemoSystem.WORK, DemoSystem.PERSONAL, DemoSystem.DVM);
            long tq = System.nanoTime();
            system.awaitReadyPreloads(2, preloadTimeout);
            out.printf("preloads ready in %d ms: %s%n", ms(tq), queue(system));
            out.println();
            out.println(CallRow.HEADER);
            try (CallRunner runner = new CallRunner(system)) {
                int n = 0;
                for (Step s : steps()) {
                    CallRunner.Result r = runner.call(DemoSystem.WORK, s.target(), s.service(), s.input(), s.label());
                    rows.add(r.row());
                    out.println(r.row().format());
                    if (r.row().exitCode() != s.expectedExit()) {
                        failures.add(s.label() + " exited " + r.row().exitCode() + ", expected " + s.expectedExit()
                                + (r.stderr().isBlank() ? "" : ": " + r.stderr().strip()));
                    }
                    if (++n == 2) {
                        out.println("  queue after two calls: " + queue(system));
                    }
                }
                out.println("  queue now: " + queue(system));
                long tr = System.nanoTime();
                system.awaitReadyPreloads(2, preloadTimeout);
                out.printf("  queue refilled in %d ms: %s%n", ms(tr), queue(system));
                CallRunner.Result again = runner.call(DemoSystem.WORK, "@dispvm", "qubes.OpenURL",
                        url("https://www.kernel.org/"), "qubes.OpenURL https://www.kernel.org/");
                rows.add(again.row());
                out.println(again.row().format());
                if (again.row().exitCode() != 0) {
                    failures.add("last qubes.OpenURL exited " + again.row().exitCode() + ": " + again.stderr().strip());
                }
            }
        } catch (TimeoutException e) {
            failures.add(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted");
        } catch (Exception e) {
            failures.add(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        out.println();
        long ts = System.nanoTime();
        if (system != null) {
            system.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting (the hook ran or runs)
            }
        }
        List<String> leftovers = instance == null ? List.of()
                : Leftovers.find(stateDir, instance, Path.of("/sys/fs/cgroup"));
        if (!keepState) {
            try {
                Leftovers.deleteTree(stateDir);
            } catch (IOException e) {
                failures.add("cannot delete the state directory: " + e.getMessage());
            }
        }
        out.printf("shut down in %d ms; leftovers: %s%n", ms(ts), leftovers.isEmpty() ? "none (processes, cgroups,"
                + " mounts, sockets)" : String.join("; ", leftovers));
        for (String f : failures) {
            out.println("FAILED: " + f);
        }
        out.printf("demo %s in %.1f s%n", failures.isEmpty() && leftovers.isEmpty() ? "done" : "failed",
                (System.nanoTime() - t0) / 1e9);
        return new Report(backendLine, rows, leftovers, failures);
    }

    private static String queue(DemoSystem system) {
        QueueStatus q = system.manager().queueStatus(DemoSystem.DVM);
        return "ready " + q.ready() + ", preloading " + q.preloading();
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }
}
