package dev.qrexec.dispvm;

import dev.qrexec.dispvm.preload.PreloadStage;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property: with many callers obtaining and releasing at once, while the maximum changes and someone
 * unpauses preloads behind the engine's back, no disposable is handed out twice, none is handed out
 * while still preloading, and at the end every qube is accounted for (queue, or gone).
 */
class OneDisposableOneCallerTest {

    private static final int CALLERS = 8;
    private static final int ROUNDS = 12;

    @TempDir
    Path dir;
    Fixture f;

    @AfterEach
    void tearDown() {
        f.close();
    }

    @RepeatedTest(2)
    void noDisposableIsEverHandedOutTwiceUsedWhilePreloadingOrLost() throws Exception {
        // Small latencies so stages interleave with claims.
        f = new Fixture(dir, SimHypervisor.builder().bootLatency(Duration.ofMillis(15))
                .pauseLatency(Duration.ofMillis(3)).unpauseLatency(Duration.ofMillis(2))
                .killLatency(Duration.ofMillis(2)).build(), b -> b).withTemplates();
        f.admin().setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0");
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "3");
        f.awaitReady("dvm", 3);

        Map<String, String> holder = new ConcurrentHashMap<>();
        Set<String> everDelivered = ConcurrentHashMap.newKeySet();
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicInteger preloaded = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
            String caller = "caller" + c;
            f.admin().create(caller, QubeClass.APP_VM, Map.of("template", "fedora"));
            threads.add(new Thread(() -> {
                try {
                    go.await();
                    for (int r = 0; r < ROUNDS; r++) {
                        Disposable d = f.manager.obtain("dvm", caller).join();
                        if (d.preloaded()) {
                            preloaded.incrementAndGet();
                        }
                        if (holder.putIfAbsent(d.name(), caller) != null) {
                            violations.add(d.name() + " handed to " + caller + " while held by " + holder.get(d.name()));
                        }
                        if (!everDelivered.add(d.name())) {
                            violations.add(d.name() + " handed out a second time");
                        }
                        f.manager.engine().handle(d.name()).filter(h -> h.stage() != PreloadStage.USED)
                                .ifPresent(h -> violations.add(d.name() + " delivered in stage " + h.stage()));
                        if (f.sim.state(d.name()) != QubeState.RUNNING) {
                            violations.add(d.name() + " delivered " + f.sim.state(d.name()));
                        }
                        var q = f.manager.snapshot().get(d.name());
                        if (q.featureTrue(Features.PRELOAD_IN_PROGRESS) || f.queue("dvm").contains(d.name())) {
                            violations.add(d.name() + " delivered while still marked as preloading");
                        }
                        holder.remove(d.name());
                        f.manager.release(d.name()).join();
                    }
                } catch (Exception e) {
                    violations.add(caller + " failed: " + e);
                }
            }, caller));
        }
        Random rnd = new Random(42);
        Thread chaos = new Thread(() -> {
            while (!stop.get()) {
                try {
                    if (rnd.nextBoolean()) {
                        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, Integer.toString(rnd.nextInt(5)));
                    } else {
                        List<String> q = f.queue("dvm");
                        if (!q.isEmpty()) {
                            String n = q.get(rnd.nextInt(q.size()));
                            if (f.sim.list().contains(n) && f.sim.state(n) == QubeState.PAUSED) {
                                // Used behind the engine's back, unless a claim got there first.
                                f.sim.unpause(n);
                            }
                        }
                    }
                    Thread.onSpinWait();
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
                } catch (dev.qrexec.xen.HypervisorException.NoSuchQube e) {
                    // removed (trimmed or released) between the look at the queue and the unpause
                } catch (RuntimeException e) {
                    violations.add("chaos: " + e);
                }
            }
        }, "chaos");
        Set<String> usedOutside = ConcurrentHashMap.newKeySet();
        f.manager.subscribe(e -> {
            if (e.kind() == dev.qrexec.dispvm.event.DispvmEvent.Kind.PRELOAD_USED_UNREQUESTED) {
                usedOutside.add(e.qube());
            }
        });
        threads.forEach(Thread::start);
        chaos.start();
        go.countDown();
        for (Thread t : threads) {
            t.join(60_000);
        }
        stop.set(true);
        chaos.join();
        assertEquals(List.of(), violations);
        Set<String> both = new HashSet<>(usedOutside);
        both.retainAll(everDelivered);
        assertEquals(Set.of(), both, "used from outside and also handed to a caller");
        assertTrue(preloaded.get() > 0, "some requests must have been served by preloads");

        // Accounting: release what the chaos thread used, then only the queue may remain.
        f.admin().setFeature("dvm", Features.PRELOAD_DISPVM_MAX, "2");
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            for (var q : f.manager.snapshot().qubes().values()) {
                if (q.klass() == QubeClass.DISP_VM && !f.manager.engine().isPreload(q.name())
                        && !f.manager.cleaner().cleaning(q.name())) {
                    f.manager.release(q.name());
                }
            }
            return f.manager.queueStatus("dvm").ready().size() == 2;
        });
        f.awaitNoLeaks(new HashSet<>(f.queue("dvm")));
        assertEquals(Set.copyOf(f.queue("dvm")), Set.copyOf(f.manager.engine().handles().stream()
                .map(h -> h.name()).toList()), "engine handles match the queue");
    }
}
