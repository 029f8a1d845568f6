package dev.qrexec.dispvm;

import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.dispvm.preload.MemoryBalancer;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import static org.awaitility.Awaitility.await;

/**
 * A sim backend plus a manager with a persisted store and one TemplateVM {@code fedora}, a disposable
 * template {@code dvm} (both able to preload) and an app qube {@code work} whose default is {@code dvm}.
 */
final class Fixture implements AutoCloseable {

    final SimHypervisor sim;
    final Path storeDir;
    DispvmManager manager;
    final List<DispvmEvent> events = new CopyOnWriteArrayList<>();
    /** Qube name of the barrier events {@link #syncEvents} publishes; never a real qube, never recorded. */
    private static final String SYNC = "fixture.sync";
    private final java.util.concurrent.atomic.AtomicLong syncsSent = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong syncsSeen = new java.util.concurrent.atomic.AtomicLong();
    private final UnaryOperator<DispvmManager.Builder> customize;

    Fixture(Path dir) {
        this(dir, SimHypervisor.builder().hostMemoryMiB(16384).build(), b -> b);
    }

    Fixture(Path dir, SimHypervisor sim, UnaryOperator<DispvmManager.Builder> customize) {
        this.sim = sim;
        this.storeDir = dir.resolve("store");
        this.customize = customize;
        this.manager = newManager();
    }

    DispvmManager newManager() {
        DispvmManager.Builder b = DispvmManager.builder(sim).storeDir(storeDir)
                .timings(PreloadTimings.immediate())
                .readiness(QubeReadiness.immediate())
                .memoryReleaser(MemoryReleaser.none())
                .memoryLimits(new MemoryBalancer.Limits(Duration.ofMillis(20), Duration.ofMillis(300),
                        100L << 20, 1.1, 200L << 20, 1.3, Duration.ofSeconds(2), 64));
        DispvmManager m = customize.apply(b).build();
        m.subscribe(e -> {
            if (e.qube().equals(SYNC)) {
                syncsSeen.incrementAndGet();
            } else {
                events.add(e);
            }
        });
        return m;
    }

    /** Closes the manager (as a daemon stop) and opens a new one on the same store and backend. */
    void restart() {
        manager.close();
        manager = newManager();
    }

    QubeAdmin admin() {
        return manager.admin();
    }

    Fixture withTemplates() {
        // Refill 50 ms after a use instead of Qubes' 3 s, so tests do not sleep through the default.
        admin().setFeature("dom0", Features.PRELOAD_DISPVM_DELAY, "0.05");
        admin().create("fedora", QubeClass.TEMPLATE_VM, Map.of());
        admin().setFeature("fedora", Features.QREXEC, "1");
        admin().setFeature("fedora", Features.RPC_WAIT_RUNNING, "1");
        admin().setFeature("fedora", Features.RPC_WAIT_SESSION, "1");
        admin().create("dvm", QubeClass.APP_VM, Map.of("template", "fedora", "template_for_dispvms", "True"));
        admin().create("work", QubeClass.APP_VM, Map.of("template", "fedora", "default_dispvm", "dvm"));
        return this;
    }

    List<String> queue(String template) {
        return manager.snapshot().preloadList(template);
    }

    /** Waits until {@code template}'s queue holds {@code n} ready preloads. */
    void awaitReady(String template, int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.queueStatus(template).ready().size() == n
                && queue(template).size() == n);
    }

    /**
     * Waits until every event published so far has reached {@link #events}: delivery is
     * asynchronous (one listener queue, in order), so a barrier event marks how far it got.
     */
    void syncEvents() {
        long n = syncsSent.incrementAndGet();
        manager.events().publish(DispvmEvent.of(DispvmEvent.Kind.REFILL_SCHEDULED, SYNC, "", "fixture barrier"));
        await().atMost(Duration.ofSeconds(10)).until(() -> syncsSeen.get() >= n);
    }

    /** How many events of {@code kind} concern {@code qube}, counting every event published so far. */
    long count(DispvmEvent.Kind kind, String qube) {
        syncEvents();
        return events.stream().filter(e -> e.kind() == kind && e.qube().equals(qube)).count();
    }

    /** Waits until the registry's disposables are exactly {@code expected} and the backend defines no others. */
    void awaitNoLeaks(java.util.Set<String> expected) {
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> leaks(expected).isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("leaks: " + leaks(expected) + "; handles " + manager.engine().handles(), e);
        }
    }

    private String leaks(java.util.Set<String> expected) {
        var s = manager.snapshot();
        var disp = s.qubes().values().stream().filter(q -> q.klass() == QubeClass.DISP_VM)
                .map(q -> q.name()).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        var defined = new java.util.TreeSet<>(sim.list());
        defined.removeAll(expected);
        if (disp.equals(expected) && defined.isEmpty()) {
            return "";
        }
        return "registry disposables " + disp + " (expected " + expected + "), unexpected in backend " + defined
                + ", queue " + s.preloadList("dvm");
    }

    @Override
    public void close() {
        manager.close();
        sim.close();
    }
}
