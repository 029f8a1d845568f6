package dev.qrexec.bench.broker;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.DisposableProvider;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.daemon.UnixSocketTransport;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.services.TestServices;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Bulk throughput of one VM -> VM call relayed by the broker: the Java {@code test.Source+N}
 * service in the target writes N bytes, qrexec-client-vm in the caller counts them. Every byte
 * crosses two Unix sockets and the broker's relay (decode, re-encode).
 *
 * <pre>java -cp tests/target/tests.jar:tests/target/lib/* dev.qrexec.bench.broker.BrokerRelayThroughput [MiB] [runs]</pre>
 */
public final class BrokerRelayThroughput {

    private BrokerRelayThroughput() {
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 512;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path root = Files.createTempDirectory(Path.of("/tmp"), "qt");
        Agent src = agent(root, "src", 46);
        Agent tgt = agent(root, "tgt", 47);
        UnixSocketTransport transport = UnixSocketTransport.create(2);
        BrokerDaemon daemon = new BrokerDaemon(transport, DaemonConfig.defaults(),
                r -> PolicyVerdict.Allow.to(r.target()), Dom0Services.none(), QubeStarter.NONE,
                DisposableProvider.NONE);
        try {
            daemon.declare(new AgentAddress("src", 46, root.resolve("src"))).whenReady().get();
            daemon.declare(new AgentAddress("tgt", 47, root.resolve("tgt"))).whenReady().get();
            Map<String, String> env = Map.of("VCHAN_DOMAIN", "46", "VCHAN_SOCKET_DIR", root.resolve("src").toString());
            for (int run = 0; run <= runs; run++) {
                long bytes = (run == 0 ? Math.min(mib, 64) : mib) << 20;
                AtomicLong counted = new AtomicLong();
                OutputStream counter = new OutputStream() {
                    @Override
                    public void write(int b) {
                        counted.incrementAndGet();
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        counted.addAndGet(len);
                    }
                };
                long t0 = System.nanoTime();
                int code = QrexecClientVm.execute(env, new ByteArrayInputStream(new byte[0]), counter,
                        new PrintStream(OutputStream.nullOutputStream()),
                        "--agent-socket=" + root.resolve("src/agent.sock"), "tgt", "test.Source+" + bytes);
                double s = (System.nanoTime() - t0) / 1e9;
                if (code != 0 || counted.get() != bytes) {
                    throw new IllegalStateException("exit " + code + ", got " + counted.get() + " of " + bytes);
                }
                System.out.printf("%s %d MiB in %.2f s = %.0f MiB/s%n", run == 0 ? "warm-up" : "run " + run,
                        bytes >> 20, s, (bytes >> 20) / s);
            }
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

    private static Agent agent(Path root, String name, int domain) throws java.io.IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        return Agent.start(AgentConfig.builder().vchanDir(dir).domain(domain).qubeName(name)
                .triggerSocket(dir.resolve("agent.sock")).servicePath(dir.resolve("rpc").toString())
                .configPath(dir.resolve("rpc-config").toString()).javaServices(TestServices.all())
                .userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5)).build(), new AgentState(name));
    }
}
