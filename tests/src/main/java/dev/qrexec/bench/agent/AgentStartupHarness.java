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
 * read from {@code /proc/<pid>}. Run:
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

    record Sample(double startupMs, long rssKiB, long pssKiB) {
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
        System.out.println("| flags | start-up p50 ms | min | max | idle RSS MiB (p50) | idle PSS MiB (p50) |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (Map.Entry<String, List<String>> e : sets.entrySet()) {
            List<Sample> s = measure(work, e.getValue(), runs);
            double[] ms = s.stream().mapToDouble(Sample::startupMs).sorted().toArray();
            long[] rss = s.stream().mapToLong(Sample::rssKiB).sorted().toArray();
            long[] pss = s.stream().mapToLong(Sample::pssKiB).sorted().toArray();
            System.out.printf("| %s | %.0f | %.0f | %.0f | %.1f | %.1f |%n", e.getKey(), ms[ms.length / 2], ms[0],
                    ms[ms.length - 1], rss[rss.length / 2] / 1024.0, pss[pss.length / 2] / 1024.0);
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
            echoCall(control, dir);
            // Idle: let start-up garbage be collected as the agent would between calls.
            TimeUnit.SECONDS.sleep(2);
            long rss = procValue(p.pid(), "status", "VmRSS:");
            long pss = procValue(p.pid(), "smaps_rollup", "Pss:");
            return new Sample(startupMs, rss, pss);
        } finally {
            // SIGTERM: the agent closes its sockets in its shutdown hook (and a CDS dump run writes its archive).
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            deleteTree(dir);
        }
    }

    /** One dom0→qube call of the built-in test.Echo, as the broker would make it. */
    static void echoCall(SocketChannel control, Path dir) throws IOException {
        Path data = dir.resolve("vchan.0." + DOMAIN + ".513.sock");
        try (ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            l.bind(UnixDomainSocketAddress.of(data));
            byte[] cmd = "user:QUBESRPC test.Echo dom0\0".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer body = ByteBuffer.allocate(8 + cmd.length).order(ByteOrder.LITTLE_ENDIAN);
            body.putInt(0).putInt(513).put(cmd);
            control.write(frame(0x200, body.array()));
            try (SocketChannel ch = l.accept()) {
                ch.write(frame(0x300, le(4)));
                ch.write(frame(0x190, "ping".getBytes(StandardCharsets.US_ASCII)));
                ch.write(frame(0x190, new byte[0]));
                while (expectAny(ch) != 0x193) {
                    // stdout and stderr frames until the exit code
                }
            }
        }
        expectFrame(control, 0x211);
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
        ByteBuffer h = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, h);
        h.flip();
        int type = h.getInt();
        readFully(ch, ByteBuffer.allocate(h.getInt()));
        return type;
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
