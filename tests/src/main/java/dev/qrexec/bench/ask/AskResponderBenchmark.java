package dev.qrexec.bench.ask;

import dev.qrexec.broker.daemon.ask.PromptHub;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.daemon.AskingResponder;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What the ask path costs the broker besides the user's think time, on one thread: an allow
 * (cached reply), an ask answered at once by a prompter, and an ask through dom0's
 * {@link PromptHub} (question encoded as a JSON line for the prompt agent, answer matched back,
 * ask timeout armed and cancelled). System of 40 qubes, so the prompt's icon map is realistic.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class AskResponderBenchmark {

    /** Held strongly: JUL forgets the level of a logger that was garbage-collected. */
    private static final Logger POLICY_LOGGER = Logger.getLogger("dev.qrexec");

    private AskingResponder atOnce;
    private AskingResponder viaHub;
    private PromptHub hub;
    private final AtomicLong lastId = new AtomicLong();
    private final PromptHub.PromptAgent agent = new PromptHub.PromptAgent() {
        @Override
        public boolean send(String line) {
            int at = line.indexOf("\"id\":");
            if (at >= 0) {
                int end = line.indexOf(',', at);
                lastId.set(Long.parseLong(line.substring(at + 5, end)));
            }
            return true;
        }

        @Override
        public String describe() {
            return "bench";
        }
    };
    private final SocketRequest ask = new SocketRequest("work", "personal", "qubes.Filecopy+x", "", false, false);
    private final SocketRequest allow = new SocketRequest("work", "personal", "test.Allow+x", "", false, false);

    @Setup
    public void setUp() throws Exception {
        POLICY_LOGGER.setLevel(Level.SEVERE);
        Path dir = Files.createTempDirectory("bench-ask-");
        Files.writeString(dir.resolve("10-bench.policy"), "qubes.Filecopy * work @anyvm ask default_target=personal\n"
                + "test.Allow * work personal allow\n");
        Policy policy = PolicyLoader.load(new PolicyLocation(List.of(dir), dir.resolve("legacy")));
        SystemInfo system = system(40);
        atOnce = AskingResponder.builder(() -> policy, () -> system)
                .prompter(p -> CompletableFuture.completedFuture("allow:personal")).build();
        hub = new PromptHub();
        hub.attached(agent);
        viaHub = AskingResponder.builder(() -> policy, () -> system).prompter(hub).notifier(hub)
                .askTimeout(Duration.ofSeconds(60)).build();
    }

    static SystemInfo system(int qubes) {
        StringBuilder json = new StringBuilder("{\"domains\": {\"dom0\": {\"type\": \"AdminVM\", \"tags\": [],"
                + " \"template_for_dispvms\": false, \"default_dispvm\": null, \"power_state\": \"Running\","
                + " \"uuid\": \"00000000-0000-0000-0000-000000000000\", \"icon\": \"adminvm-black\"}");
        for (int i = 0; i < qubes; i++) {
            String name = i == 0 ? "work" : i == 1 ? "personal" : "qube" + i;
            json.append(String.format(", \"%s\": {\"type\": \"AppVM\", \"tags\": [], \"template_for_dispvms\": %s,"
                    + " \"default_dispvm\": null, \"power_state\": \"Running\", \"guivm\": \"dom0\","
                    + " \"uuid\": \"00000000-0000-4000-8000-%012d\", \"icon\": \"appvm-blue\"}", name, i % 10 == 9, i + 1));
        }
        return SystemInfo.fromJson(json.append("}}").toString());
    }

    @Benchmark
    public String allowCached() {
        return allow(atOnce);
    }

    private String allow(AskingResponder r) {
        return r.replyAsync(allow).join();
    }

    @Benchmark
    public String askAnsweredAtOnce() {
        return atOnce.replyAsync(ask).join();
    }

    @Benchmark
    public String askThroughPromptHub() {
        CompletableFuture<String> reply = viaHub.replyAsync(ask);
        hub.answered(agent, lastId.get(), "allow:personal");
        return reply.join();
    }
}
