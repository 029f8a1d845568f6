package dev.qrexec.bench.policydaemon;

import dev.qrexec.examples.ExamplePolicies;
import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reload.SystemInfoFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the daemon spends per request outside the socket: evaluate plus render the reply text, on
 * the load harness's policies ({@link GeneratedPolicy}). Run: {@code bench/jmh PolicyReplyBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PolicyReplyBenchmark {

    @Param({"3", "10000"})
    int rules;

    private Path work;
    private PolicyService policy;
    private SystemInfoFile system;
    private EngineResponder responder;

    private final SocketRequest allow = new SocketRequest("work", "personal", "qubes.Filecopy+report.pdf", "", false, false);
    private final SocketRequest dispvm = new SocketRequest("work", "@dispvm", "qubes.OpenURL", "", false, false);
    private final SocketRequest deny = new SocketRequest("personal", "work", "qubes.Filecopy", "", false, false);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        work = Files.createTempDirectory("policy-bench-");
        GeneratedPolicy.write(work.resolve("policy.d"), rules);
        ExamplePolicies.installSystemInfo(work.resolve("system-info.json"));
        PolicyService.ReloadSettings manual = PolicyService.ReloadSettings.manual();
        policy = PolicyService.open(new PolicyLocation(List.of(work.resolve("policy.d")), work.resolve("legacy")), manual);
        system = SystemInfoFile.open(work.resolve("system-info.json"), manual);
        responder = new EngineResponder(policy, system);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        policy.close();
        system.close();
        try (var paths = Files.walk(work)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Benchmark
    public String allowReply() {
        return responder.reply(allow);
    }

    @Benchmark
    public String dispvmReply() {
        return responder.reply(dispvm);
    }

    @Benchmark
    public String denyReply() {
        return responder.reply(deny);
    }
}
