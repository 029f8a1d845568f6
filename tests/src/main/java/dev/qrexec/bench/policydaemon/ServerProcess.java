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
 * The standalone daemon ({@code PolicyCli daemon}) in a JVM of its own, so that the harness can
 * report the server's CPU per request apart from its clients' (as on a real system, where the
 * callers are qrexec-daemon processes, not threads of the policy daemon).
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    private final Path socket;

    private ServerProcess(Process process, Path socket) {
        this.process = process;
        this.socket = socket;
    }

    /** Starts the daemon on {@code socket} and waits (at most 30 s) until it serves. */
    static ServerProcess start(Path socket, Path policyDir, Path systemInfo, int workers, Path log)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "dev.qrexec.policy.cli.PolicyCli", "daemon",
                "--socket", socket.toString(),
                "--system-info", systemInfo.toString(),
                "--policy-dir", policyDir.toString(),
                "--legacy-dir", policyDir.resolveSibling("legacy").toString()));
        if (workers > 0) {
            command.addAll(List.of("--workers", Integer.toString(workers)));
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // Per-request INFO lines would measure the logger, not the daemon.
        pb.environment().put("QREXEC_LOG_LEVEL", "WARNING");
        Process process = pb.start();
        ServerProcess server = new ServerProcess(process, socket);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                server.close();
                throw new IOException("daemon did not start serving " + socket + "; its output: "
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
