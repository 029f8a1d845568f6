package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.contract.BackendAvailability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Shared set-up of the sandbox tests: a unique instance name per backend (other engineers run
 * sandbox tests on this machine at the same time), a template root built from the host with the
 * test classes shown read-only at {@code /probe}, and qube specs with their own storage.
 */
final class SandboxFixture {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    /** A /bin/sh init that idles until SIGTERM, then exits 0. */
    static final List<String> IDLE_INIT = List.of("/bin/sh", "-c",
            "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done");

    private SandboxFixture() {
    }

    static String uniqueInstance(String hint) {
        return "t" + ProcessHandle.current().pid() + "-" + hint + "-" + COUNTER.incrementAndGet();
    }

    static SandboxConfig.Builder config(Path dir, String instance) {
        return SandboxConfig.builder(instance).stateRoot(dir.resolve("state"))
                .startTimeout(Duration.ofSeconds(20)).workerThreads(2);
    }

    /** Opens a backend, or skips (fails under CI) when this host cannot run sandboxes. */
    static SandboxHypervisor open(SandboxConfig config) {
        try {
            return SandboxHypervisor.open(config);
        } catch (HypervisorException.BackendUnavailable e) {
            BackendAvailability.unavailable("sandbox", e.getMessage());
            throw e;
        }
    }

    /** Skips (fails under CI) unless this host can run sandboxes: opens and closes a throw-away backend. */
    static void assumeSandboxes(Path dir) throws IOException {
        open(config(Files.createDirectories(dir.resolve("probe-backend")), uniqueInstance("probe")).build()).close();
    }

    /** Makes {@code dir} reachable by the qubes' uids (JUnit's temp dirs are 0700). */
    static void makeTraversable(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    private static Path sharedTemplate;

    /**
     * Template root from the host, plus this module's test classes at /probe. Built once per JVM
     * (outside JUnit's temp dirs, whose cleaner complains about every symlink) and deleted at exit.
     */
    static synchronized Path templateRoot() throws IOException {
        if (sharedTemplate == null) {
            Path dir = Files.createTempDirectory("qrexec-sandbox-template-");
            makeTraversable(dir);
            Path template = HostTemplateRoot.builder(dir.resolve("root")).readOnly("probe", testClasses()).build();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    PrivateStorage.deleteTree(dir);
                } catch (IOException e) {
                    // best effort: a temp dir
                }
            }));
            sharedTemplate = template;
        }
        return sharedTemplate;
    }

    static Path testClasses() {
        try {
            return Path.of(SandboxProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Domain id {@code n} (0..79) of this JVM: spread by process id, so two test runs on this host
     * (other engineers run these tests too) do not share qube uids.
     */
    static int domainId(int n) {
        if (n < 0 || n >= 80) {
            throw new IllegalArgumentException("test domain id index out of range: " + n);
        }
        return 2000 + (int) (ProcessHandle.current().pid() % 400) * 80 + n;
    }

    /** Kills what the test left running (a failed test must not leak sandboxes), then closes. */
    static void closeKillingAll(SandboxHypervisor hypervisor) {
        if (hypervisor == null) {
            return;
        }
        for (String qube : hypervisor.list()) {
            if (hypervisor.state(qube) != dev.qrexec.xen.QubeState.HALTED) {
                try {
                    hypervisor.kill(qube).get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // halted meanwhile, or the kill failed: the next sweep of this instance would
                    // retry, but test instances are never reopened, so say it loudly
                    System.err.println("could not kill test qube " + qube + ": " + e);
                }
            }
        }
        hypervisor.close();
    }

    /** A qube spec with its own storage; {@code n} is the test's domain id index (see {@link #domainId}). */
    static QubeSpec.Builder spec(Path dir, Path template, String name, int n) {
        return QubeSpec.builder(name, domainId(n)).memoryMiB(64).maxMemoryMiB(256).vcpus(1).volatileSizeMiB(16)
                .templateRoot(template)
                .privateStorage(dir.resolve("private-" + name))
                .channelDir(dir.resolve("ch-" + name))
                .init(IDLE_INIT);
    }

    /** The probe run as a qube's init: a JVM from the host's /usr/lib/jvm inside the sandbox. */
    static List<String> probeInit(String... args) {
        Path javaHome = Path.of(System.getProperty("java.home"));
        return Stream.concat(Stream.of(javaHome.resolve("bin/java").toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-cp", "/probe", SandboxProbe.class.getName()), Stream.of(args)).toList();
    }

    /** Host uids of live processes owned by {@code uid} (scans /proc). */
    static List<Long> processesOfUid(int uid) throws IOException {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> {
                        try {
                            return Files.readAllLines(p.resolve("status")).stream()
                                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals(Integer.toString(uid)));
                        } catch (IOException e) {
                            return false;
                        }
                    })
                    .map(p -> Long.parseLong(p.getFileName().toString())).toList();
        }
    }
}
