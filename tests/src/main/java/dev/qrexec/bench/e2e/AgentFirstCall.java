package dev.qrexec.bench.e2e;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The disposable's share of a preloaded {@code @dispvm} call, without the broker, the manager or a
 * sandbox: what the agent JVM of a preload costs for the one call it will ever serve.
 *
 * <p>Per agent: spawn {@code java ... AgentCli} (the sandbox's flags plus the set's), wait for its
 * HELLO (start-up), make the readiness call {@code qubes.WaitForRunningSystem} from "dom0" as the
 * preload engine does, stop every thread of the JVM ({@code SIGSTOP}, as the freezer does) for the
 * pause, continue it ({@code SIGCONT}), and at once send {@code EXEC_CMDLINE test.Echo}: the time to
 * the first STDOUT byte and to the exit code is the disposable's part of the caller's latency. Each
 * agent serves one call, like a disposable, so every sample is a first call.
 *
 * <p>Run: {@code java -cp "tests/target/tests.jar:tests/target/lib/*" dev.qrexec.bench.e2e.AgentFirstCall
 * [agents-per-set] [pause-ms] [extra-calls] ["label=flag flag ..." ...]}; a flag starting with {@code --} is
 * an option of the agent (e.g. {@code --warm-up=10}), any other a JVM flag (default 8 agents, 500 ms, no extra
 * call before the pause, the sandbox's flags only).
 */
public final class AgentFirstCall {

    static final int DOMAIN = 78;
    private static final int HELLO = 0x300;
    private static final int EXEC_CMDLINE = 0x200;
    private static final int CONNECTION_TERMINATED = 0x211;
    private static final int STDIN = 0x190;
    private static final int STDOUT = 0x191;
    private static final int EXIT_CODE = 0x193;

    private AgentFirstCall() {
    }

    record Sample(double startupMs, double readyMs, double firstByteMs, double exitMs) {
    }

    public static void main(String[] args) throws Exception {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        long pauseMs = args.length > 1 ? Long.parseLong(args[1]) : 500;
        int extraCalls = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        Map<String, List<String>> sets = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String flags = args[i].substring(eq + 1).strip();
            sets.put(args[i].substring(0, eq), flags.isEmpty() ? List.of() : Arrays.asList(flags.split("\\s+")));
        }
        if (sets.isEmpty()) {
            sets.put("sandbox flags", List.of());
        }
        Path work = Files.createTempDirectory(Path.of("/tmp"), "afc");
        try {
            System.out.printf(Locale.ROOT, "# %d agents per set, %d extra calls before the pause, pause %d ms, load"
                            + " average %s%n", agents, extraCalls, pauseMs, Files.readString(Path.of("/proc/loadavg")).trim());
            System.out.println("| set | start-up p50 ms | readiness p50 ms | first byte p50 ms | p90 | max | exit p50 ms |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|");
            for (Map.Entry<String, List<String>> e : sets.entrySet()) {
                List<Sample> s = new ArrayList<>();
                for (int i = 0; i < agents; i++) {
                    s.add(once(work, e.getValue(), pauseMs, extraCalls));
                }
                double[] up = sorted(s, Sample::startupMs);
                double[] ready = sorted(s, Sample::readyMs);
                double[] first = sorted(s, Sample::firstByteMs);
                double[] exit = sorted(s, Sample::exitMs);
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", e.getKey(),
                        pct(up, 50), pct(ready, 50), pct(first, 50), pct(first, 90), first[first.length - 1],
                        pct(exit, 50));
            }
        } finally {
            deleteTree(work);
        }
    }

    static Sample once(Path work, List<String> flags, long pauseMs, int extraCalls) throws Exception {
        Path dir = Files.createTempDirectory(work, "r");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(dev.qrexec.broker.demo.AgentBundle.jvmFlags());
        flags.stream().filter(f -> !f.startsWith("--")).forEach(cmd::add);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.qrexec.broker.agent.cli.AgentCli",
                "--domain=" + DOMAIN, "--vchan-dir=" + dir, "--agent-socket=" + dir.resolve("agent.sock"),
                "--service-path=" + dir.resolve("rpc"), "--config-path=" + dir.resolve("rpc-config")));
        flags.stream().filter(f -> f.startsWith("--")).forEach(cmd::add);
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try (SocketChannel control = connect(dir.resolve("vchan." + DOMAIN + ".0.512.sock"), p)) {
            expect(control, HELLO);
            double startup = (System.nanoTime() - t0) / 1e6;
            control.write(frame(HELLO, le(4)));
            long r0 = System.nanoTime();
            call(control, dir, 513, "qubes.WaitForRunningSystem", new byte[0], null);
            double ready = (System.nanoTime() - r0) / 1e6;
            for (int i = 0; i < extraCalls; i++) {
                call(control, dir, 515 + i, "test.Echo", "x".getBytes(StandardCharsets.US_ASCII), null);
            }
            signal("STOP", p.pid());
            TimeUnit.MILLISECONDS.sleep(pauseMs);
            signal("CONT", p.pid());
            long[] marks = new long[2];
            long c0 = System.nanoTime();
            call(control, dir, 514, "test.Echo", "x".getBytes(StandardCharsets.US_ASCII), marks);
            return new Sample(startup, ready, (marks[0] - c0) / 1e6, (marks[1] - c0) / 1e6);
        } finally {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
            deleteTree(dir);
        }
    }

    /** A dom0 → qube call as the broker makes it; {@code marks}: first STDOUT data, exit code (nanoTime). */
    static void call(SocketChannel control, Path dir, int port, String service, byte[] input, long[] marks)
            throws IOException {
        Path data = dir.resolve("vchan.0." + DOMAIN + "." + port + ".sock");
        try (ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            l.bind(UnixDomainSocketAddress.of(data));
            byte[] cmd = ("user:QUBESRPC " + service + " dom0\0").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer body = ByteBuffer.allocate(8 + cmd.length).order(ByteOrder.LITTLE_ENDIAN);
            body.putInt(0).putInt(port).put(cmd);
            control.write(frame(EXEC_CMDLINE, body.array()));
            try (SocketChannel ch = l.accept()) {
                ch.write(frame(HELLO, le(4)));
                if (input.length > 0) {
                    ch.write(frame(STDIN, input));
                }
                ch.write(frame(STDIN, new byte[0]));
                for (Frame f = read(ch); ; f = read(ch)) {
                    if (f.type() == STDOUT && f.body().length > 0 && marks != null && marks[0] == 0) {
                        marks[0] = System.nanoTime();
                    }
                    if (f.type() == EXIT_CODE) {
                        if (marks != null) {
                            marks[1] = System.nanoTime();
                        }
                        break;
                    }
                }
            }
        }
        expect(control, CONNECTION_TERMINATED);
    }

    record Frame(int type, byte[] body) {
    }

    static Frame read(SocketChannel ch) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, h);
        h.flip();
        int type = h.getInt();
        ByteBuffer body = ByteBuffer.allocate(h.getInt());
        readFully(ch, body);
        return new Frame(type, body.array());
    }

    static void expect(SocketChannel ch, int type) throws IOException {
        int got = read(ch).type();
        if (got != type) {
            throw new IOException("expected frame 0x" + Integer.toHexString(type) + ", got 0x" + Integer.toHexString(got));
        }
    }

    static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("EOF");
            }
        }
    }

    static SocketChannel connect(Path path, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("agent exited with " + p.exitValue());
            }
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(path));
                return ch;
            } catch (IOException e) {
                ch.close();
                TimeUnit.MICROSECONDS.sleep(200);
            }
        }
        throw new IllegalStateException("agent did not listen within 30 s");
    }

    static void signal(String sig, long pid) throws Exception {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        if (k.waitFor() != 0) {
            throw new IllegalStateException("kill -" + sig + " " + pid + " failed");
        }
    }

    static ByteBuffer frame(int type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(body.length).put(body).flip();
        return b;
    }

    static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static double[] sorted(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f) {
        return s.stream().mapToDouble(f).sorted().toArray();
    }

    private static double pct(double[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
