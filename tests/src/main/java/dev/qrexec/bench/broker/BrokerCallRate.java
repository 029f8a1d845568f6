package dev.qrexec.bench.broker;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.DisposableProvider;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.daemon.UnixSocketTransport;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.services.TestServices;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Calls per second of a trivial VM -> VM service through the broker: two Java agents in their own
 * socket directories, an allow-all policy, the Java {@code test.Echo} service, and the Java
 * qrexec-client-vm run in-process for each call (a fresh trigger connection and data channel).
 *
 * <pre>java -cp tests/target/tests.jar:tests/target/lib/* dev.qrexec.bench.broker.BrokerCallRate [calls] [threads]</pre>
 */
public final class BrokerCallRate {

    private BrokerCallRate() {
    }

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        Path root = Files.createTempDirectory(Path.of("/tmp"), "qb");
        Agent src = agent(root, "src", 46);
        Agent tgt = agent(root, "tgt", 47);
        UnixSocketTransport transport = UnixSocketTransport.create(2);
        BrokerDaemon daemon = new BrokerDaemon(transport, DaemonConfig.defaults().withMaxCallsPerQube(256),
                r -> PolicyVerdict.Allow.to(r.target()), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        try {
            AgentSession s1 = daemon.declare(new AgentAddress("src", 46, root.resolve("src")));
            AgentSession s2 = daemon.declare(new AgentAddress("tgt", 47, root.resolve("tgt")));
            s1.whenReady().get();
            s2.whenReady().get();
            Map<String, String> env = Map.of("VCHAN_DOMAIN", "46", "VCHAN_SOCKET_DIR", root.resolve("src").toString());
            String socket = "--agent-socket=" + root.resolve("src/agent.sock");
            // Warm-up: JIT, pools, socket paths.
            run(env, socket, Math.min(500, calls), threads);
            long[] latencies = run(env, socket, calls, threads);
            Arrays.sort(latencies);
            System.out.printf("calls=%d threads=%d transport=%s%n", calls, threads,
                    transport.isEpoll() ? "epoll" : "nio");
            System.out.printf("rate=%.0f calls/s  p50=%.2f ms  p99=%.2f ms  max=%.2f ms%n",
                    RATE.get(), latencies[latencies.length / 2] / 1e6,
                    latencies[(int) (latencies.length * 0.99)] / 1e6, latencies[latencies.length - 1] / 1e6);
        } finally {
            daemon.close();
            transport.close();
            src.close();
            tgt.close();
            try (Stream<Path> files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static final java.util.concurrent.atomic.AtomicReference<Double> RATE =
            new java.util.concurrent.atomic.AtomicReference<>(0.0);

    private static long[] run(Map<String, String> env, String socket, int calls, int threads) throws Exception {
        long[] latencies = new long[calls];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long start = System.nanoTime();
        Future<?>[] workers = new Future<?>[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = pool.submit(() -> {
                byte[] input = "ping".getBytes();
                for (int i; (i = next.getAndIncrement()) < calls; ) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    long t0 = System.nanoTime();
                    int code = QrexecClientVm.execute(env, new ByteArrayInputStream(input), out,
                            new PrintStream(new ByteArrayOutputStream(), true), socket, "tgt", "test.Echo");
                    latencies[i] = System.nanoTime() - t0;
                    if (code != 0 || !out.toString().equals("ping")) {
                        failures.incrementAndGet();
                    }
                }
            });
        }
        for (Future<?> w : workers) {
            w.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        RATE.set(calls / seconds);
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " of " + calls + " calls failed");
        }
        return latencies;
    }

    private static Agent agent(Path root, String name, int domain) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        return Agent.start(AgentConfig.builder().vchanDir(dir).domain(domain).qubeName(name)
                .triggerSocket(dir.resolve("agent.sock")).servicePath(dir.resolve("rpc").toString())
                .configPath(dir.resolve("rpc-config").toString()).javaServices(TestServices.all())
                .userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5)).maxCalls(64).build(), new AgentState(name));
    }
}
