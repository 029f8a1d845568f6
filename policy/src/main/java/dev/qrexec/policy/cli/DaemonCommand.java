package dev.qrexec.policy.cli;

import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.daemon.EvalService;
import dev.qrexec.policy.daemon.PolicySocketServer;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reload.SystemInfoFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qrexec-policy daemon}: a standalone policy daemon on a Unix socket (the policy.sock protocol). */
@Command(name = "daemon",
        description = {
            "Serve the policy.sock protocol (spec 7.1) on a Unix socket (mode 0660) until stopped (SIGINT/SIGTERM).",
            "The policy directories are watched and reloaded atomically on change; a reload that fails keeps the "
                    + "last good policy (a policy that never loaded denies everything). The system info file is "
                    + "re-read when it changes. An ask in normal mode is denied: this daemon has no prompt."},
        mixinStandardHelpOptions = true,
        version = PolicyCli.VERSION)
final class DaemonCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "Socket to create (e.g. /run/qubes/policy.sock).")
    Path socket;

    @Option(names = "--eval-socket", paramLabel = "PATH",
            description = "Also serve policy.EvalSimple (spec 7.2) here, e.g. /etc/qubes-rpc/policy.EvalSimple.")
    Path evalSocket;

    @Option(names = "--gui-eval-socket", paramLabel = "PATH",
            description = "Also serve policy.EvalGUI (spec 7.2) here, e.g. /etc/qubes-rpc/policy.EvalGUI.")
    Path guiEvalSocket;

    @Option(names = "--system-info", required = true, paramLabel = "FILE", description = "System info (GetSystemInfo JSON), followed as it changes.")
    Path systemInfo;

    @Option(names = "--policy-dir", required = true, arity = "1..*", paramLabel = "DIR",
            description = "Policy directories in priority order (repeat the option or list several).")
    List<Path> policyDirs;

    @Option(names = "--legacy-dir", paramLabel = "DIR", defaultValue = "/etc/qubes-rpc/policy",
            description = "Directory spliced in by !compat-4.0 (default: ${DEFAULT-VALUE}).")
    Path legacyDirectory;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "0",
            description = "Threads waiting for connections at all times (default: 1; more are added while slow "
                    + "clients hold them).")
    int workers;

    @Override
    public Integer call() throws IOException, InterruptedException {
        CliLogging.threshold(java.util.logging.Level.INFO);
        PrintWriter err = spec.commandLine().getErr();
        PolicyDirs dirs = new PolicyDirs(policyDirs, legacyDirectory);
        PolicySocketServer.Builder builder = PolicySocketServer.builder().socket(socket);
        try {
            if (workers > 0) {
                builder.workerThreads(workers);
            }
        } catch (IllegalArgumentException e) {
            err.println("qrexec-policy daemon: " + e.getMessage());
            return 2;
        }
        PolicyService.ReloadSettings settings = PolicyService.ReloadSettings.defaults();
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // SIGINT/SIGTERM: ask the main thread to close everything, and let the JVM exit only once it has
        // (so the socket file is removed), or after 5 s.
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                closed.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "qrexec-policy-daemon-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (PolicyService policy = PolicyService.open(dirs.location(), settings);
             SystemInfoFile system = SystemInfoFile.open(systemInfo, settings);
             PolicySocketServer server = builder.responder(new EngineResponder(policy, system)).start()) {
            err.println("qrexec-policy daemon: serving " + server.path() + "; policy: "
                    + policy.status().summary());
            if (!system.status().healthy()) {
                err.println("qrexec-policy daemon: no system info yet, denying everything: " + system.status().lastError());
            }
            try (PolicySocketServer eval = evalServer(evalSocket, EvalService.SIMPLE, policy, system);
                 PolicySocketServer gui = evalServer(guiEvalSocket, EvalService.GUI, policy, system)) {
                for (PolicySocketServer extra : new PolicySocketServer[] {eval, gui}) {
                    if (extra != null) {
                        err.println("qrexec-policy daemon: serving " + extra.path());
                    }
                }
                err.flush();
                // Interrupting this thread (tests, embedding) stops the daemon too.
                stopRequested.await();
            }
        } finally {
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook is running.
            }
        }
        err.println("qrexec-policy daemon: stopped");
        return 0;
    }

    private PolicySocketServer evalServer(Path path, EvalService service, PolicyService policy, SystemInfoFile system)
            throws IOException {
        if (path == null) {
            return null;
        }
        PolicySocketServer.Builder b = PolicySocketServer.builder().socket(path).evalService(service, policy, system);
        if (workers > 0) {
            b.workerThreads(workers);
        }
        return b.start();
    }
}
