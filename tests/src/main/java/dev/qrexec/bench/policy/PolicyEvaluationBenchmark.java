package dev.qrexec.bench.policy;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Decisions per second on one thread, for policies of 100, 1,000 and 10,000 rules over about ten
 * rules per service (plus interleaved {@code * *} rules), with a mixed request stream: allow, deny,
 * ask (with candidate collection), unknown services, unknown targets, {@code @dispvm}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PolicyEvaluationBenchmark {

    /** Held strongly: JUL forgets the level of a logger that was garbage-collected. */
    private static final Logger POLICY_LOGGER = Logger.getLogger("dev.qrexec.policy");

    @Param({"100", "1000", "10000"})
    public int rules;

    private Policy policy;
    private SystemInfo system;
    private PolicyRequest[] requests;
    private int next;

    @Setup
    public void setUp() throws Exception {
        POLICY_LOGGER.setLevel(Level.SEVERE);
        Path dir = Files.createTempDirectory("bench-policy-");
        SyntheticPolicy.write(dir, rules, 7);
        policy = PolicyLoader.load(new PolicyLocation(List.of(dir), dir.resolve("legacy")));
        system = SyntheticPolicy.system();
        requests = SyntheticPolicy.requests(rules, 4096, 11).toArray(new PolicyRequest[0]);
    }

    @Benchmark
    public Decision evaluate() {
        PolicyRequest request = requests[next];
        next = (next + 1) & (requests.length - 1);
        return policy.evaluate(request, system);
    }
}
