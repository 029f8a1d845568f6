package dev.qrexec.bench.policydaemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A policy.sock server in a JVM of its own (the standalone daemon, or the broker), so that the
 * harness can report the server's CPU per request apart from its clients' (as on a real system,
 * where the callers are qrexec-daemon processes, not threads of the policy daemon).
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path socket;

    private ServerProcess(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts the standalone daemon ({@code PolicyCli daemon}) on {@code socket} and waits (at most 30 s) until it serves. */
    static ServerProcess startDaemon(Path socket, Path policyDir, Path systemInfo, int workers, Path log)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                java(), "-cp", System.getProperty("java.class.path"),
                "dev.qrexec.policy.cli.PolicyCli", "daemon",
                "--socket", socket.toString(),
                "--system-info", systemInfo.toString(),
                "--policy-dir", policyDir.toString(),
                "--legacy-dir", policyDir.resolveSibling("legacy").toString()));
        if (workers > 0) {
            command.addAll(List.of("--workers", Integer.toString(workers)));
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        // Per-request INFO lines would measure the logger, not the daemon.
        pb.environment().put("QREXEC_LOG_LEVEL", "WARNING");
        return start(pb, socket, log);
    }

    /**
     * Starts the broker as {@code ./qrexec serve --system-info F --policy-dir D --socket-dir S} does
     * (no qubes) and waits until its {@code S/policy.sock} serves; logging at WARNING, as for the daemon.
     */
    static ServerProcess startBroker(Path socketDir, Path policyDir, Path systemInfo, Path log) throws IOException {
        Path logging = socketDir.resolveSibling("broker-logging.properties");
        Files.writeString(logging, ".level=WARNING\nhandlers=java.util.logging.ConsoleHandler\n");
        ProcessBuilder pb = new ProcessBuilder(java(), "-Djava.util.logging.config.file=" + logging,
                "-cp", System.getProperty("java.class.path"), "dev.qrexec.broker.cli.Main", "serve",
                "--system-info", systemInfo.toString(),
                "--policy-dir", policyDir.toString(),
                "--socket-dir", socketDir.toString());
        return start(pb, socketDir.resolve("policy.sock"), log);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static ServerProcess start(ProcessBuilder pb, Path socket, Path log) throws IOException {
        Process process = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServerProcess server = new ServerProcess(process, socket);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                server.close();
                throw new IOException("server did not start serving " + socket + "; its output: "
                        + (Files.exists(log) ? Files.readString(log) : "(none)"));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return server;
    }

    Path socket() {
        return socket;
    }

    /** CPU time the daemon has used so far (user and system), or -1 if the OS does not say. */
    long cpuNanos() {
        return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
