package dev.qrexec.bench.policydaemon;

import dev.qrexec.broker.server.BrokerServer;
import dev.qrexec.examples.ExamplePolicies;
import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.daemon.PolicySocketServer;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reload.SystemInfoFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Load harness for the policy daemon: a policy.sock server in this process (or an external one)
 * and N client threads that each open one connection per request, as qrexec-daemon does.
 *
 * <pre>
 * java -cp 'tests/target/tests.jar:tests/target/lib/*' dev.qrexec.bench.policydaemon.PolicyDaemonLoad \
 *     --rules 10000 --clients 4 --requests 400000 --duration 30s
 * </pre>
 *
 * Bounded by request count and duration; loopback Unix socket only.
 */
@Command(name = "policy-daemon-load", mixinStandardHelpOptions = true,
        description = "Measure policy.sock requests per second with one connection per request.")
public final class PolicyDaemonLoad implements Callable<Integer> {

    @Option(names = "--rules", defaultValue = "3", description = "Rules in the generated policy (default ${DEFAULT-VALUE}).")
    int rules;

    @Option(names = "--clients", defaultValue = "4", description = "Concurrent client threads (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--requests", defaultValue = "200000", description = "Measured requests at most (default ${DEFAULT-VALUE}).")
    long requests;

    @Option(names = "--duration", defaultValue = "PT30S", converter = DurationConverter.class,
            description = "Measured time at most, e.g. 30s (default 30s).")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "20000", description = "Unmeasured requests first (default ${DEFAULT-VALUE}).")
    long warmup;

    @Option(names = "--workers", defaultValue = "0",
            description = "Server threads waiting for connections (default: the server's default, 1).")
    int workers;

    @Option(names = "--cache", defaultValue = "" + EngineResponder.DEFAULT_CACHE_ENTRIES,
            description = "Replies the server remembers per policy snapshot; 0 evaluates every request (default ${DEFAULT-VALUE}).")
    int cacheEntries;

    @Option(names = "--distinct", defaultValue = "4",
            description = "Distinct requests in the mix (>4 varies the file-copy argument; default ${DEFAULT-VALUE}).")
    int distinct;

    @Option(names = "--socket", description = "Measure an external daemon on this socket instead; it must serve "
            + "the policy and system info written by --write-policy.")
    Path externalSocket;

    @Option(names = "--server-process", description = "Run the daemon (PolicyCli daemon, default reply cache) in a JVM "
            + "of its own and report its CPU per request apart from the clients'.")
    boolean serverProcess;

    @Option(names = "--broker", description = "Measure the policy.sock of the broker (BrokerServer, as './qrexec serve "
            + "--system-info F --policy-dir D --socket-dir S' starts it) instead of the standalone daemon; in this JVM, "
            + "or in its own with --server-process.")
    boolean broker;

    @Option(names = "--write-policy", description = "Only write the generated policy.d and system-info.json into this directory.")
    Path writeTo;

    public static void main(String[] args) {
        System.exit(new CommandLine(new PolicyDaemonLoad()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || requests < 1 || rules < 3) {
            System.err.println("--clients and --requests must be positive, --rules at least 3");
            return 2;
        }
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        java.util.Arrays.stream(java.util.logging.Logger.getLogger("").getHandlers())
                .forEach(h -> h.setLevel(java.util.logging.Level.WARNING));
        Path work = writeTo != null ? writeTo : Files.createTempDirectory("policy-load-");
        Path policyDir = work.resolve("policy.d");
        Path systemFile = work.resolve("system-info.json");
        GeneratedPolicy.write(policyDir, rules);
        ExamplePolicies.installSystemInfo(systemFile);
        if (writeTo != null) {
            System.out.println("wrote " + policyDir + " and " + systemFile);
            return 0;
        }
        PolicyService.ReloadSettings manual = PolicyService.ReloadSettings.manual();
        try (PolicyService policy = PolicyService.open(new PolicyLocation(List.of(policyDir), work.resolve("legacy")), manual);
             SystemInfoFile system = SystemInfoFile.open(systemFile, manual)) {
            EngineResponder responder = new EngineResponder(policy, system, cacheEntries);
            List<LoadClients.Exchange> mix = mix(new EngineResponder(policy, system, 0), distinct);
            PolicySocketServer server = null;
            BrokerServer brokerServer = null;
            ServerProcess daemon = null;
            Path socket = externalSocket;
            if (socket == null && serverProcess && broker) {
                daemon = ServerProcess.startBroker(Files.createDirectories(work.resolve("run")), policyDir, systemFile,
                        work.resolve("broker.log"));
                socket = daemon.socket();
            } else if (socket == null && serverProcess) {
                daemon = ServerProcess.startDaemon(work.resolve("policy.sock"), policyDir, systemFile, workers,
                        work.resolve("daemon.log"));
                socket = daemon.socket();
            } else if (socket == null && broker) {
                brokerServer = BrokerServer.builder().policyDir(policyDir).systemInfo(system)
                        .socketDir(Files.createDirectories(work.resolve("run"))).start();
                server = brokerServer.policySocket();
                socket = server.path();
            } else if (socket == null) {
                PolicySocketServer.Builder b = PolicySocketServer.builder().socket(work.resolve("policy.sock")).responder(responder);
                if (workers > 0) {
                    b.workerThreads(workers);
                }
                server = b.start();
                socket = server.path();
            }
            try {
                System.out.printf("policy: %d rules (%s); clients: %d; distinct requests: %d; reply cache: %d; server: %s%n",
                        policy.current().rules().size(), policyDir, clients, mix.size(), cacheEntries,
                        daemon != null && broker ? "own JVM (qrexec serve, the broker's policy.sock)"
                                : daemon != null ? "own JVM (PolicyCli daemon), " + (workers > 0 ? workers : 1) + " worker threads"
                                : server == null ? "external " + socket
                                : brokerServer != null ? "the broker's policy.sock (BrokerServer), in this JVM"
                                : (workers > 0 ? workers : 1) + " worker threads, in this JVM");
                if (warmup > 0) {
                    LoadClients.Result w = LoadClients.run(socket, mix, clients, warmup, duration);
                    System.out.printf("warm-up: %d requests, %.0f/s, %d errors%n", w.requests(), w.perSecond(), w.errors());
                }
                int addedBefore = server == null ? 0 : server.threadsAdded();
                long cpuBefore = processCpuNanos();
                long daemonCpuBefore = daemon == null ? -1 : daemon.cpuNanos();
                LoadClients.Result r = LoadClients.run(socket, mix, clients, requests, duration);
                long cpu = processCpuNanos() - cpuBefore;
                long daemonCpu = daemon == null ? -1 : daemon.cpuNanos() - daemonCpuBefore;
                print(r);
                if (server != null) {
                    System.out.printf("server threads added while every thread was held for over 10 ms: %d%n",
                            server.threadsAdded() - addedBefore);
                }
                if (daemon != null && daemonCpuBefore >= 0) {
                    System.out.printf("server cpu: %.2f s of the daemon's JVM for %d requests = %.1f us per request "
                                    + "= %.0f requests per cpu-second%n", daemonCpu / 1e9, r.requests(),
                            daemonCpu / 1e3 / r.requests(), r.requests() / (daemonCpu / 1e9));
                }
                if (cpu > 0) {
                    // Independent of how busy the machine is: what one request costs this process (clients
                    // and, unless --socket, the server), so two free cores would give at most 2 / cost.
                    System.out.printf("cpu: %.2f s of this process for %d requests = %.1f us per request "
                                    + "(clients%s) = %.0f requests per cpu-second%n", cpu / 1e9, r.requests(),
                            cpu / 1e3 / r.requests(), server == null ? " only" : " and server", r.requests() / (cpu / 1e9));
                    if (daemonCpu > 0) {
                        System.out.printf("total: %.1f us of CPU per request (clients + server), so two free cores "
                                + "would serve at most %.0f requests/s%n", (cpu + daemonCpu) / 1e3 / r.requests(),
                                2e9 * r.requests() / (cpu + daemonCpu));
                    }
                }
                return r.errors() == 0 ? 0 : 1;
            } finally {
                if (brokerServer != null) {
                    brokerServer.close();
                } else if (server != null) {
                    server.close();
                }
                if (daemon != null) {
                    daemon.close();
                }
                if (writeTo == null) {
                    deleteTree(work);
                }
            }
        }
    }

    /** The request mix, each with the reply the engine gives it (so a wrong reply counts as an error). */
    private static List<LoadClients.Exchange> mix(EngineResponder responder, int distinct) {
        List<SocketRequest> base = List.of(
                new SocketRequest("work", "personal", "qubes.Filecopy+report.pdf", "", false, false),
                new SocketRequest("work", "@dispvm", "qubes.OpenURL", "", false, false),
                new SocketRequest("personal", "work", "qubes.Filecopy", "", false, false),
                new SocketRequest("work", "personal", "qubes.Filecopy", "", false, true));
        List<String> replies = base.stream().map(responder::reply).toList();
        List<LoadClients.Exchange> out = new ArrayList<>();
        for (int i = 0; i < Math.max(distinct, base.size()); i++) {
            int k = i % base.size();
            SocketRequest r = base.get(k);
            if (i >= base.size()) {
                // Another argument: no rule names one, so the reply is the base request's.
                String service = r.service();
                r = new SocketRequest(r.source(), r.intendedTarget(), service + "+variant-" + i,
                        r.requestedSource(), r.assumeYesForAsk(), r.justEvaluate());
            }
            out.add(new LoadClients.Exchange(r.toWire(), replies.get(k)));
        }
        return out;
    }

    private static void print(LoadClients.Result r) {
        LatencyHistogram h = r.latencies();
        System.out.printf("measured: %d requests in %.2f s = %.0f requests/s; errors: %d%n", r.requests(),
                r.elapsed().toNanos() / 1e9, r.perSecond(), r.errors());
        System.out.printf("latency per request (connect, send, read reply, close): p50 %.1f us, p99 %.1f us, "
                        + "p99.9 %.1f us, max %.1f us%n",
                h.quantile(0.50) / 1e3, h.quantile(0.99) / 1e3, h.quantile(0.999) / 1e3, h.max() / 1e3);
        if (r.firstError() != null) {
            System.out.println("first error: " + r.firstError());
        }
        System.out.printf("when: %s; cores: %d; java: %s %s%n", Instant.now(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name"), System.getProperty("java.version"));
    }

    private static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Accepts {@code 30s}, {@code 2m}, {@code 500ms} or ISO-8601. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (v.startsWith("p")) {
                return Duration.parse(value);
            }
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            if (v.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
            }
            if (v.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
            }
            throw new CommandLine.TypeConversionException("not a duration: " + value + " (use e.g. 30s, 2m, 500ms)");
        }
    }
}
