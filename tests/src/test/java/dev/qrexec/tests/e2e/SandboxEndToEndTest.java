package dev.qrexec.tests.e2e;

import dev.qrexec.broker.client.QrexecClient;
import dev.qrexec.broker.demo.CallRunner;
import dev.qrexec.broker.demo.DemoSystem;
import dev.qrexec.broker.demo.Leftovers;
import dev.qrexec.dispvm.registry.Features;
import dev.qrexec.xen.HypervisorException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * End to end over real Unix sockets, with the Java agent as the init of each sandboxed qube and the
 * broker, policy and disposable manager in this JVM. The system is started once for the class.
 * Calls come from {@code work}'s agent (qrexec-client-vm on its trigger socket), or from dom0
 * (qrexec-client on the broker's local socket).
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SandboxEndToEndTest {

    /** The template's script service: upper-cases stdin, reports the caller on stderr, exits 3. */
    private static final String UPPER = "#!/bin/sh\ntr a-z A-Z\necho \"stderr from $QREXEC_REMOTE_DOMAIN\" >&2\nexit 3\n";

    private static final String TEST_POLICY = String.join("\n",
            "test.Upper     *  work      personal  allow",
            "test.Sink      *  work      personal  allow",
            "test.Source    *  work      personal  allow",
            "test.Missing   *  work      personal  allow",
            "test.ExitCode  *  work      personal  allow",
            "test.Echo      *  work      @dispvm   allow",
            "");

    private static Path stateDir;
    private static DemoSystem system;
    private static CallRunner runner;

    @BeforeAll
    static void startSystem() throws Exception {
        stateDir = Files.createTempDirectory(Path.of("/tmp"), "qde");
        try {
            system = DemoSystem.builder(stateDir).backend("sandbox").extraPolicy("10-e2e.policy", TEST_POLICY)
                    .serviceScript("test.Upper", UPPER).start();
        } catch (HypervisorException.BackendUnavailable e) {
            Leftovers.deleteTree(stateDir);
            SandboxRequirement.unavailable(e.getMessage());
        }
        system.awaitReadyPreloads(2, Duration.ofSeconds(60));
        runner = new CallRunner(system);
    }

    @AfterAll
    static void stopSystem() throws Exception {
        if (runner != null) {
            runner.close();
        }
        if (system != null) {
            String instance = system.instance();
            system.close();
            List<String> left = Leftovers.find(stateDir, instance, Path.of("/sys/fs/cgroup"));
            Leftovers.deleteTree(stateDir);
            assertEquals(List.of(), left, "nothing left behind after the system stopped");
        }
    }

    private static CallRunner.Result call(String target, String service, String input) throws InterruptedException {
        return runner.call(DemoSystem.WORK, target, service, input.getBytes(StandardCharsets.UTF_8), service);
    }

    @Test
    @Order(1)
    void vmToVmRelaysStdoutStderrAndExitCodeExactly() throws Exception {
        CallRunner.Result r = call(DemoSystem.PERSONAL, "test.Upper", "hello personal\n");
        assertEquals(3, r.row().exitCode(), r.stderr());
        assertEquals("HELLO PERSONAL\n", r.stdoutText());
        assertEquals("stderr from work\n", r.stderr());
        assertEquals("allow", r.row().decision());
        assertEquals("10-e2e.policy:1", r.row().rule());
        for (int code : new int[] {0, 1, 42, 255}) {
            assertEquals(code, call(DemoSystem.PERSONAL, "test.ExitCode+" + code, "").row().exitCode());
        }
    }

    @Test
    @Order(2)
    void vmToDom0ServiceAnsweredByTheBroker() throws Exception {
        CallRunner.Result r = call("@adminvm", "qubes.GetDate", "");
        assertEquals(0, r.row().exitCode(), r.stderr());
        assertTrue(r.stdoutText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z\\n"), r.stdoutText());
        assertEquals("90-default.policy:11", r.row().rule());
    }

    @Test
    @Order(3)
    void dom0ToVmThroughTheLocalSocket() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClient.execute(
                Map.of("VCHAN_SOCKET_DIR", system.layout().channelDir(DemoSystem.PERSONAL).toString()),
                new ByteArrayInputStream("from dom0\n".getBytes(StandardCharsets.UTF_8)), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "-d", DemoSystem.PERSONAL, "--socket-dir=" + system.layout().socketDir(),
                "DEFAULT:QUBESRPC test.Upper dom0");
        assertEquals(3, code, err.toString(StandardCharsets.UTF_8));
        assertEquals("FROM DOM0\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("stderr from dom0\n", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    @Order(4)
    void refusedCallExits126AndMissingServiceExits127() throws Exception {
        CallRunner.Result denied = call(DemoSystem.PERSONAL, "qubes.VMShell", "");
        assertEquals(126, denied.row().exitCode());
        assertEquals("deny", denied.row().decision());
        assertTrue(denied.stderr().contains("Request refused"), denied.stderr());

        // The agent answers a missing service with 127 and hangs up at once, often before the
        // caller's end of input reaches it: the broker must still relay the 127 (RelayCallTest).
        CallRunner.Result missing = call(DemoSystem.PERSONAL, "test.Missing", "");
        assertEquals(127, missing.row().exitCode(), missing.stderr());
    }

    @Test
    @Order(5)
    void dispvmPreloadedThenCold() throws Exception {
        system.awaitReadyPreloads(2, Duration.ofSeconds(60));
        List<String> ready = system.manager().queueStatus(DemoSystem.DVM).ready();
        CallRunner.Result warm = call("@dispvm", "test.Echo", "warm");
        assertEquals(0, warm.row().exitCode(), warm.stderr());
        assertEquals("warm", warm.stdoutText());
        assertEquals("preloaded", warm.row().origin());
        assertTrue(ready.contains(warm.row().disposable()), ready + " vs " + warm.row());
        // Destroyed once both ends terminated.
        await().atMost(Duration.ofSeconds(30)).until(() -> !system.hypervisor().list().contains(warm.row().disposable()));

        system.manager().admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "0");
        await().atMost(Duration.ofSeconds(30)).until(() -> system.manager().queueStatus(DemoSystem.DVM).queue().isEmpty());
        CallRunner.Result cold = call("@dispvm", "test.Echo", "cold");
        assertEquals(0, cold.row().exitCode(), cold.stderr());
        assertEquals("cold", cold.stdoutText());
        assertEquals("cold", cold.row().origin());
        await().atMost(Duration.ofSeconds(30)).until(() -> !system.hypervisor().list().contains(cold.row().disposable()));
        assertEquals(0, system.daemon().session(DemoSystem.WORK).orElseThrow().callsInFlight());

        system.manager().admin().setFeature("dom0", Features.PRELOAD_DISPVM_MAX, "2");
        system.awaitReadyPreloads(2, Duration.ofSeconds(60));
    }

    /** 100 MiB each way between two sandboxed qubes, through the broker, with its memory sampled. */
    @Test
    @Order(6)
    void hundredMebibytesEachWayWithBoundedBrokerMemory() throws Exception {
        // Warm-up: the pooled allocator takes its chunks (4 MiB per arena in use) once; after that a
        // relay that does not buffer needs no more, whatever the size of the transfer.
        assertEquals(0, transfer(8L << 20));
        assertEquals(8L << 20, download(8L << 20));
        long size = 100L << 20;
        MemorySampler sampler = new MemorySampler();
        sampler.start();
        long t0 = System.nanoTime();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = dev.qrexec.broker.client.QrexecClientVm.execute(clientEnv(), new PatternInput(size), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "--agent-socket=" + system.triggerSocket(DemoSystem.WORK), DemoSystem.PERSONAL, "test.Sink");
        long upload = System.nanoTime() - t0;
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertEquals(size + "\n", out.toString(StandardCharsets.UTF_8));

        long t1 = System.nanoTime();
        assertEquals(size, download(size));
        long download = System.nanoTime() - t1;
        sampler.stop();

        // Four times the data through the same path: a relay that buffered would need ~300 MiB more.
        MemorySampler big = new MemorySampler();
        big.start();
        assertEquals(0, transfer(4 * size));
        big.stop();

        System.out.printf("e2e 100 MiB: upload %.0f MiB/s, download %.0f MiB/s; this JVM (broker + client):"
                        + " direct memory peak +%d KiB (400 MiB upload: +%d KiB), heap used peak +%d MiB"
                        + " (baseline %d MiB)%n", 100 / (upload / 1e9), 100 / (download / 1e9),
                sampler.directGrowth() >> 10, big.directGrowth() >> 10, sampler.heapGrowth() >> 20,
                sampler.heapBaseline >> 20);
        // The allocator may take some chunks (4 MiB each) for threads that did not run during the
        // warm-up (each client call has its own event loop); that is bounded, the payload is not.
        assertTrue(sampler.directGrowth() < 64L << 20, "direct memory grew by " + (sampler.directGrowth() >> 20)
                + " MiB moving 2 x 100 MiB: the relay must not buffer");
        assertTrue(big.directGrowth() < 64L << 20, "direct memory grew by " + (big.directGrowth() >> 20)
                + " MiB moving 400 MiB: the relay must not buffer");
    }

    /** Reads {@code size} bytes from personal's test.Source; returns how many came. */
    private static long download(long size) {
        CountingOutput counted = new CountingOutput();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = dev.qrexec.broker.client.QrexecClientVm.execute(clientEnv(), InputStream.nullInputStream(), counted,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "--agent-socket=" + system.triggerSocket(DemoSystem.WORK), DemoSystem.PERSONAL, "test.Source+" + size);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        return counted.count;
    }

    /** Sends {@code size} bytes to personal's test.Sink; returns the client's exit code. */
    private static int transfer(long size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = dev.qrexec.broker.client.QrexecClientVm.execute(clientEnv(), new PatternInput(size), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "--agent-socket=" + system.triggerSocket(DemoSystem.WORK), DemoSystem.PERSONAL, "test.Sink");
        assertEquals(size + "\n", out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        return code;
    }

    private static Map<String, String> clientEnv() {
        return Map.of("VCHAN_DOMAIN", Integer.toString(system.address(DemoSystem.WORK).domainId()),
                "VCHAN_SOCKET_DIR", system.layout().channelDir(DemoSystem.WORK).toString());
    }

    /** Samples this JVM's heap and direct memory every 5 ms on its own thread. */
    private static final class MemorySampler {
        final long heapBaseline = heapUsed();
        final long directBaseline = direct();
        final AtomicLong heapPeak = new AtomicLong(heapBaseline);
        final AtomicLong directPeak = new AtomicLong(directBaseline);
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread = new Thread(() -> {
            while (running.get()) {
                heapPeak.accumulateAndGet(heapUsed(), Math::max);
                directPeak.accumulateAndGet(direct(), Math::max);
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
        }, "e2e-memory-sampler");

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        long heapGrowth() {
            return heapPeak.get() - heapBaseline;
        }

        long directGrowth() {
            return directPeak.get() - directBaseline;
        }

        static long heapUsed() {
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        }

        /** JDK direct buffers plus Netty's own direct allocations (when it counts them). */
        static long direct() {
            long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            long netty = io.netty.util.internal.PlatformDependent.usedDirectMemory();
            return jdk + Math.max(0, netty);
        }
    }

    /** {@code size} bytes of a repeating pattern, produced on the fly. */
    private static final class PatternInput extends InputStream {
        private long left;

        PatternInput(long size) {
            this.left = size;
        }

        @Override
        public int read() {
            return left-- > 0 ? (int) (left & 0x7f) : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            for (int i = 0; i < n; i++) {
                b[off + i] = (byte) ((left - i) & 0x7f);
            }
            left -= n;
            return n;
        }
    }

    private static final class CountingOutput extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
