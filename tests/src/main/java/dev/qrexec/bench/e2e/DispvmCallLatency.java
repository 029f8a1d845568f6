package dev.qrexec.bench.e2e;

import dev.qrexec.broker.demo.CallRow;
import dev.qrexec.broker.demo.CallRunner;
import dev.qrexec.broker.demo.DemoSystem;
import dev.qrexec.broker.demo.Leftovers;
import dev.qrexec.dispvm.registry.Features;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code @dispvm} latency end to end: from the start of a call in {@code work} (qrexec-client-vm
 * connecting to work's agent) to the first byte the service in the disposable writes back, with a
 * ready preload and cold. Everything is real: agents in sandboxed qubes, the broker, the policy,
 * the disposable manager; the service is {@code test.Echo} (the Java agent echoes stdin).
 *
 * <p>Run: {@code mvn -o -q -B -pl tests -am package -DskipTests && java -cp
 * "tests/target/tests.jar:tests/target/lib/*" dev.qrexec.bench.e2e.DispvmCallLatency [preloaded-rounds]
 * [cold-rounds] [backend]} (defaults 30, 10, sandbox). By default a call starts as soon as one preload
 * is ready, so it may share the CPU with the other preload of the queue still booting (its JVM start);
 * {@code -Dbench.settle=true} waits for the full queue before each call (nothing else boots meanwhile).
 * {@code -Dbench.log=FINE} prints a millisecond timeline, with a {@code CALL} line per call.
 */
public final class DispvmCallLatency {

    /** The queue length of {@code default-dvm}, as in the demo. */
    private static final int PRELOAD_MAX = 2;

    /** With {@code -Dbench.log=FINE} or finer: log lines carry milliseconds and every call prints its start. */
    private static boolean timeline;

    private DispvmCallLatency() {
    }

    public static void main(String[] args) throws Exception {
        int warmRounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int coldRounds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        String backend = args.length > 2 ? args[2] : "sandbox";
        java.util.logging.Level level = java.util.logging.Level.parse(System.getProperty("bench.log", "WARNING"));
        timeline = level.intValue() <= java.util.logging.Level.FINE.intValue();
        if (timeline && System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            // Milliseconds, so the log reads as a timeline of each call (set before the first handler exists).
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT.%1$tL %4$.4s %3$s: %5$s%6$s%n");
        }
        java.util.logging.Logger.getLogger("").setLevel(level);
        for (var h : java.util.logging.Logger.getLogger("").getHandlers()) {
            h.setLevel(level);
        }
        boolean settle = Boolean.getBoolean("bench.settle");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "qdb");
        try (DemoSystem system = DemoSystem.builder(dir).backend(backend).preloadMax(PRELOAD_MAX)
                .extraPolicy("10-bench.policy", "test.Echo  *  work  @dispvm  allow\ntest.Echo  *  work  personal  allow\n").start();
             CallRunner runner = new CallRunner(system)) {
            System.out.println("# " + system.backendLine() + "; " + (settle ? "every call with a full queue (settled)"
                    : "every call once a preload is ready") + "; load average "
                    + Files.readString(Path.of("/proc/loadavg")).trim());
            // Calls between two running qubes first, if asked: the broker's and the client's call path
            // as in a daemon that has served that many calls (the qubes stay; no disposable involved).
            for (int i = 0; i < Integer.getInteger("bench.qubeCalls", 0); i++) {
                CallRunner.Result r = runner.call(DemoSystem.WORK, DemoSystem.PERSONAL, "test.Echo",
                        "x".getBytes(StandardCharsets.UTF_8), "test.Echo");
                if (r.row().exitCode() != 0) {
                    throw new IllegalStateException("call to " + DemoSystem.PERSONAL + " failed: " + r.row().format());
                }
            }
            // dom0 -> personal calls, if asked: the broker's relay and codecs warm, work's agent untouched.
            for (int i = 0; i < Integer.getInteger("bench.dom0Calls", 0); i++) {
                int code = dev.qrexec.broker.client.QrexecClient.execute(
                        java.util.Map.of("VCHAN_SOCKET_DIR", system.layout().channelDir(DemoSystem.PERSONAL).toString()),
                        new java.io.ByteArrayInputStream("x".getBytes(StandardCharsets.UTF_8)),
                        java.io.OutputStream.nullOutputStream(), System.err, "-d", DemoSystem.PERSONAL,
                        "--socket-dir=" + system.layout().socketDir(), "DEFAULT:QUBESRPC test.Echo dom0");
                if (code != 0) {
                    throw new IllegalStateException("dom0 -> " + DemoSystem.PERSONAL + " exited " + code);
                }
            }
            // Warm-up: the first calls load classes in this JVM and in the agents.
            for (int i = 0; i < 3; i++) {
                system.awaitReadyPreloads(1, Duration.ofSeconds(60));
                call(runner);
            }
            List<CallRow> warm = new ArrayList<>();
            while (warm.size() < warmRounds) {
                awaitPreloads(system, settle);
                CallRow r = call(runner);
                if (r.preloaded()) {
                    warm.add(r);
                }
            }
            system.manager().admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "0");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!system.manager().queueStatus(DemoSystem.DVM).queue().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            List<CallRow> cold = new ArrayList<>();
            for (int i = 0; i < coldRounds; i++) {
                cold.add(call(runner));
            }
            report("preloaded", warm);
            report("cold", cold);
        } finally {
            Leftovers.deleteTree(dir);
        }
    }

    /**
     * One ready preload, or (settled) a full queue; a preload that failed is replaced only at the next
     * request (spec: no periodic retry), so a settled wait that does not fill in time takes what is ready.
     */
    private static void awaitPreloads(DemoSystem system, boolean settle) throws Exception {
        if (settle) {
            try {
                system.awaitReadyPreloads(PRELOAD_MAX, Duration.ofSeconds(20));
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                System.err.println("# queue not full in 20 s, calling with what is ready: " + e.getMessage());
            }
        }
        system.awaitReadyPreloads(1, Duration.ofSeconds(60));
    }

    private static CallRow call(CallRunner runner) throws InterruptedException {
        java.time.LocalTime start = java.time.LocalTime.now();
        CallRunner.Result r = runner.call(DemoSystem.WORK, "@dispvm", "test.Echo",
                "x".getBytes(StandardCharsets.UTF_8), "test.Echo");
        if (r.row().exitCode() != 0 || !r.stdoutText().equals("x")) {
            throw new IllegalStateException("call failed: " + r.row().format() + " " + r.stderr());
        }
        if (timeline) {
            System.err.printf(Locale.ROOT, "%s CALL %s %s: first byte +%.1f ms, exit +%.1f ms%n", start,
                    r.row().disposable(), r.row().origin(), r.row().firstByteMillis(), r.row().totalMillis());
        }
        return r.row();
    }

    private static void report(String what, List<CallRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        double[] first = rows.stream().mapToDouble(CallRow::firstByteMillis).sorted().toArray();
        double[] total = rows.stream().mapToDouble(CallRow::totalMillis).sorted().toArray();
        long cold = rows.stream().filter(r -> !r.preloaded()).count();
        System.out.printf(Locale.ROOT, "%-9s n=%-3d first byte: p50 %7.1f ms  p90 %7.1f ms  max %7.1f ms | whole call:"
                        + " p50 %7.1f ms  p90 %7.1f ms | cold %d%n", what, rows.size(), pct(first, 50), pct(first, 90),
                first[first.length - 1], pct(total, 50), pct(total, 90), cold);
    }

    private static double pct(double[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
