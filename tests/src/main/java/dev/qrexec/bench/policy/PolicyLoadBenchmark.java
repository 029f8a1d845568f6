package dev.qrexec.bench.policy;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Time to load (read, lex, parse, validate, index) a policy directory, warm. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class PolicyLoadBenchmark {

    @Param({"1000", "10000"})
    public int rules;

    private PolicyLocation location;

    @Setup
    public void setUp() throws Exception {
        Path dir = Files.createTempDirectory("bench-load-");
        SyntheticPolicy.write(dir, rules, 7);
        location = new PolicyLocation(List.of(dir), dir.resolve("legacy"));
    }

    @Benchmark
    public Policy load() throws Exception {
        return PolicyLoader.load(location);
    }
}
