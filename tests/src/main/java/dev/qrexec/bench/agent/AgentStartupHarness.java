package dev.qrexec.bench.agent;

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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Start-up time and idle memory of the Java agent, per set of JVM flags.
 *
 * <p>Start-up: from spawning {@code java ... AgentCli} until its control socket accepts the daemon
 * and the agent's HELLO arrives (the moment a broker can use the qube). Idle memory: after the
 * handshake and one {@code test.Echo} call, the agent is left idle for a while, then RSS and PSS are
 * read from {@code /proc/<pid>}; RSS again after a {@code qubes.ReleaseMemory} call. Run:
 * <pre>
 *   mvn -o -q -B -DskipTests -pl tests -am package
 *   java -cp "tests/target/tests.jar:tests/target/lib/*" dev.qrexec.bench.agent.AgentStartupHarness [runs]
 * </pre>
 */
public final class AgentStartupHarness {

    static final int DOMAIN = 77;
    static final List<String> TUNED = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
            "-Xms8m", "-Xmx64m", "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=20",
            "-XX:ReservedCodeCacheSize=16m", "-XX:CICompilerCount=1", "-Xshare:auto");

    private AgentStartupHarness() {
    }

    record Sample(double startupMs, long rssKiB, long pssKiB, long rssAfterReleaseKiB, long heapBefore,
                  long heapAfter) {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path work = Files.createTempDirectory(Path.of("/tmp"), "ab");
        Path jsa = work.resolve("agent.jsa");
        // An AppCDS archive of the classes the agent loads, made by one run that exits normally.
        List<String> dump = new ArrayList<>(TUNED);
        dump.add("-XX:ArchiveClassesAtExit=" + jsa);
        measure(work, dump, 1);

        Map<String, List<String>> sets = new LinkedHashMap<>();
        sets.put("JVM defaults", List.of());
        sets.put("tuned", TUNED);
        List<String> cds = new ArrayList<>(TUNED);
        cds.add("-XX:SharedArchiveFile=" + jsa);
        sets.put("tuned + AppCDS", cds);
        List<String> netty = new ArrayList<>(cds);
        netty.add("-Dio.netty.allocator.type=unpooled");
        sets.put("tuned + AppCDS + unpooled Netty buffers", netty);

        System.out.printf("java %s, %d cores, %d runs per row%n%n", System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(), runs);
        System.out.println("| flags | start-up p50 ms | min | max | idle RSS MiB (p50) | idle PSS MiB (p50) "
                + "| RSS after qubes.ReleaseMemory MiB (p50) | heap committed before → after MiB (p50) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Map.Entry<String, List<String>> e : sets.entrySet()) {
            List<Sample> s = measure(work, e.getValue(), runs);
            double[] ms = s.stream().mapToDouble(Sample::startupMs).sorted().toArray();
            long[] rss = s.stream().mapToLong(Sample::rssKiB).sorted().toArray();
            long[] pss = s.stream().mapToLong(Sample::pssKiB).sorted().toArray();
            long[] rel = s.stream().mapToLong(Sample::rssAfterReleaseKiB).sorted().toArray();
            long[] hb = s.stream().mapToLong(Sample::heapBefore).sorted().toArray();
            long[] ha = s.stream().mapToLong(Sample::heapAfter).sorted().toArray();
            System.out.printf("| %s | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f → %.1f |%n", e.getKey(),
                    ms[ms.length / 2], ms[0], ms[ms.length - 1], rss[rss.length / 2] / 1024.0,
                    pss[pss.length / 2] / 1024.0, rel[rel.length / 2] / 1024.0, hb[hb.length / 2] / 1048576.0,
                    ha[ha.length / 2] / 1048576.0);
        }
        System.out.println();
        System.out.println("tuned flags: " + String.join(" ", TUNED));
        deleteTree(work);
    }

    static List<Sample> measure(Path work, List<String> flags, int runs) throws Exception {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            out.add(once(work, flags));
        }
        return out;
    }

    static Sample once(Path work, List<String> flags) throws Exception {
        Path dir = Files.createTempDirectory(work, "r");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-Djava.util.logging.config.file=/dev/null", "-cp", System.getProperty("java.class.path"),
                "dev.qrexec.broker.agent.cli.AgentCli", "--domain=" + DOMAIN, "--vchan-dir=" + dir,
                "--agent-socket=" + dir.resolve("agent.sock"), "--service-path=" + dir.resolve("rpc"),
                "--config-path=" + dir.resolve("rpc-config")));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
        try (SocketChannel control = connect(dir.resolve("vchan." + DOMAIN + ".0.512.sock"), p)) {
            expectFrame(control, 0x300);
            double startupMs = (System.nanoTime() - t0) / 1e6;
            control.write(frame(0x300, le(4)));
            call(control, dir, 513, "test.Echo");
            // Idle: let start-up garbage be collected as the agent would between calls.
            TimeUnit.SECONDS.sleep(2);
            long rss = procValue(p.pid(), "status", "VmRSS:");
            long pss = procValue(p.pid(), "smaps_rollup", "Pss:");
            // What the preload engine asks before pausing a preload.
            String report = call(control, dir, 514, "qubes.ReleaseMemory");
            long released = procValue(p.pid(), "status", "VmRSS:");
            return new Sample(startupMs, rss, pss, released, field(report, "heap-committed-before"),
                    field(report, "heap-committed-after"));
        } finally {
            // SIGTERM: the agent closes its sockets in its shutdown hook (and a CDS dump run writes its archive).
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            deleteTree(dir);
        }
    }

    /** One dom0→qube call of a built-in service, as the broker would make it. */
    static String call(SocketChannel control, Path dir, int port, String service) throws IOException {
        StringBuilder out = new StringBuilder();
        Path data = dir.resolve("vchan.0." + DOMAIN + "." + port + ".sock");
        try (ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            l.bind(UnixDomainSocketAddress.of(data));
            byte[] cmd = ("user:QUBESRPC " + service + " dom0\0").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer body = ByteBuffer.allocate(8 + cmd.length).order(ByteOrder.LITTLE_ENDIAN);
            body.putInt(0).putInt(port).put(cmd);
            control.write(frame(0x200, body.array()));
            try (SocketChannel ch = l.accept()) {
                ch.write(frame(0x300, le(4)));
                ch.write(frame(0x190, "ping".getBytes(StandardCharsets.US_ASCII)));
                ch.write(frame(0x190, new byte[0]));
                for (Frame f = read(ch); f.type() != 0x193; f = read(ch)) {
                    if (f.type() == 0x191) {
                        out.append(new String(f.body(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        expectFrame(control, 0x211);
        return out.toString();
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

    /** A {@code key=value} line of a service's output, or -1. */
    static long field(String text, String key) {
        for (String line : text.split("\n")) {
            if (line.startsWith(key + "=")) {
                return Long.parseLong(line.substring(key.length() + 1).trim());
            }
        }
        return -1;
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

    static ByteBuffer frame(int type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(8 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(body.length).put(body).flip();
        return b;
    }

    static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static void expectFrame(SocketChannel ch, int type) throws IOException {
        int got = expectAny(ch);
        if (got != type) {
            throw new IOException("expected frame 0x" + Integer.toHexString(type) + ", got 0x" + Integer.toHexString(got));
        }
    }

    static int expectAny(SocketChannel ch) throws IOException {
        return read(ch).type();
    }

    static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("EOF");
            }
        }
    }

    static long procValue(long pid, String file, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), file))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
