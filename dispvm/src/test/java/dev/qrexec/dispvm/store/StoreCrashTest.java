package dev.qrexec.dispvm.store;

import dev.qrexec.dispvm.registry.RegistryState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM writes the store as fast as it can and is killed with SIGKILL at random moments, eight
 * times in a row on the same store; after each kill the store must load (never corrupt) and hold
 * every change the child acknowledged.
 */
class StoreCrashTest {

    @TempDir
    Path dir;

    @Test
    void acknowledgedChangesSurviveKillMinus9AtAnyMoment() throws Exception {
        Random rnd = new Random();
        Set<String> acked = new HashSet<>();
        long lastGeneration = -1;
        for (int round = 0; round < 8; round++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), StoreCrashChild.class.getName(),
                    dir.toString(), "r" + round)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            List<String> roundAcks = new ArrayList<>();
            AtomicInteger seen = new AtomicInteger();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.startsWith("ack ")) {
                            synchronized (roundAcks) {
                                roundAcks.add(line.substring(4));
                            }
                            seen.incrementAndGet();
                        }
                    }
                } catch (java.io.IOException e) {
                    // the child was killed: the pipe breaks
                }
            });
            reader.start();
            int target = 5 + rnd.nextInt(60);
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.get() >= target);
            p.destroyForcibly();   // SIGKILL on Linux
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            reader.join(5000);
            synchronized (roundAcks) {
                acked.addAll(roundAcks);
            }

            try (RegistryStore store = RegistryStore.open(dir)) {
                RegistryState s = store.load();
                Set<String> missing = new HashSet<>(acked);
                missing.removeAll(s.qubes().keySet());
                assertEquals(Set.of(), missing, "acknowledged but lost after kill -9 in round " + round);
                assertTrue(s.generation() > lastGeneration, "generation moves forward");
                lastGeneration = s.generation();
                assertTrue(s.qubes().get("tpl") != null);
                assertEquals("green", s.property(s.get(acked.iterator().next()), "label"));
            }
        }
        assertTrue(acked.size() >= 40, "enough changes were acknowledged to mean something: " + acked.size());
    }
}
