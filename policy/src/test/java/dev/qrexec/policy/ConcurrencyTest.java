package dev.qrexec.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Policy and a SystemInfo are shared by threads without locks; every thread sees the same decisions. */
class ConcurrencyTest {

    @TempDir
    Path dir;

    @Test
    void concurrentEvaluationsAgreeWithSequentialOnes() throws Exception {
        Policy policy = Fixtures.policy(dir, String.join("\n",
                "qubes.Filecopy * @anyvm @default ask default_target=vault",
                "qubes.Filecopy * work @tag:trusted allow",
                "* * @anyvm @dispvm allow",
                "* * @anyvm @anyvm ask",
                "* * @anyvm @anyvm deny", ""));
        SystemInfo system = Fixtures.desktop(); // fresh: its lazy caches are built under contention
        String[] sources = {"work", "personal", "vault", "sys-net", "no-such-vm"};
        String[] targets = {"", "vault", "@dispvm", "work", "dom0", "@dispvm:web-dvm", "x"};
        List<PolicyRequest> requests = new ArrayList<>();
        for (String s : sources) {
            for (String t : targets) {
                requests.add(PolicyRequest.of("qubes.Filecopy", "+", s, t));
                requests.add(PolicyRequest.of("other", "+x", s, t));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Decision>>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    List<Decision> out = new ArrayList<>();
                    for (int round = 0; round < 50; round++) {
                        for (PolicyRequest r : requests) {
                            out.add(policy.evaluate(r, system));
                        }
                    }
                    return out;
                }));
            }
            SystemInfo fresh = Fixtures.desktop();
            List<Decision> expected = new ArrayList<>();
            for (int round = 0; round < 50; round++) {
                for (PolicyRequest r : requests) {
                    expected.add(policy.evaluate(r, fresh));
                }
            }
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (Future<List<Decision>> f : futures) {
                    assertEquals(expected, f.get());
                }
            });
        } finally {
            pool.shutdownNow();
        }
    }
}
