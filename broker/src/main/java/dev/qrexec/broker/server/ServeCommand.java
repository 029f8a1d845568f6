package dev.qrexec.broker.server;

import dev.qrexec.broker.admin.AdminAccess;
import dev.qrexec.broker.admin.AdminServer;
import dev.qrexec.broker.admin.DispvmAdminBackend;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reload.SystemInfoFile;
import dev.qrexec.xen.HypervisorConfig;
import dev.qrexec.xen.Hypervisors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code qrexec serve}: runs the broker until SIGINT/SIGTERM. Qubes are declared as
 * {@code NAME:DOMID:SOCKET_DIR}: their agents listen on {@code SOCKET_DIR/vchan.<DOMID>.0.512.sock}
 * (Qubes' socket transport), and several may share one directory.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the qrexec broker: policy.sock, local sockets, and the daemon role for the given qubes.")
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--policy-dir", description = "policy directory (default ${DEFAULT-VALUE})",
            defaultValue = "/etc/qubes/policy.d")
    Path policyDir;

    @Option(names = "--system-info", description = "system info JSON (internal.GetSystemInfo form), reloaded on change; "
            + "not with --hypervisor, whose registry provides it")
    Path systemInfo;

    @Option(names = "--hypervisor", description = "run qubes and disposables on this backend, e.g. 'sim' or "
            + "'sandbox:...' (HypervisorConfig syntax)")
    String hypervisor;

    @Option(names = "--state-dir", description = "with --hypervisor or --demo-system: where the qubes' state is kept (default ${DEFAULT-VALUE})",
            defaultValue = "/var/lib/qrexec")
    Path stateDir;

    @Option(names = "--in-process-agents", description = "with --hypervisor: run a Java agent in this process for each "
            + "running qube (for the sim backend, where nothing runs inside a qube)")
    boolean inProcessAgents;

    @Option(names = "--admin-socket", description = "with --hypervisor: the admin socket for qvm (default SOCKET_DIR/qubesd.sock)")
    Path adminSocket;

    @Option(names = "--socket-dir", description = "directory for policy.sock and qrexec.<domid> (default ${DEFAULT-VALUE})",
            defaultValue = "/run/qubes")
    Path socketDir;

    @Option(names = "--service-dir", description = "dom0 service directory (repeatable)")
    List<Path> serviceDirs = new ArrayList<>();

    @Option(names = "--qube", description = "a running qube NAME:DOMID:SOCKET_DIR (repeatable)")
    List<String> qubes = new ArrayList<>();

    @Option(names = "--default-user", description = "user replacing DEFAULT (default ${DEFAULT-VALUE})", defaultValue = "user")
    String defaultUser;

    @Option(names = "--max-calls-per-qube", description = "calls in flight per qube (default ${DEFAULT-VALUE})",
            defaultValue = "32")
    int maxCallsPerQube;

    @Option(names = "--demo-system", description = "run the system of 'qrexec demo' (dom0, debian-13, work, personal, "
            + "default-dvm with preloaded disposables, policies-examples) in the foreground, its state in --state-dir")
    boolean demoSystem;

    @Option(names = "--backend", description = "with --demo-system: auto (sandbox if it works, else sim), sandbox or sim "
            + "(default ${DEFAULT-VALUE})", defaultValue = "auto")
    String backend;

    @Option(names = "--no-policy-socket", description = "do not serve policy.sock")
    boolean noPolicySocket;

    @Option(names = "--ask-timeout", description = "seconds a user may take to answer an ask prompt before the call "
            + "is denied (default ${DEFAULT-VALUE})", defaultValue = "60")
    long askTimeoutSeconds;

    @Option(names = "--prompt-group", description = "numeric group id whose members (as primary group) may also "
            + "connect a prompt agent to SOCKET_DIR/prompt.sock (default: root and this user only)")
    Integer promptGroup;

    @Option(names = "--ask-answers", description = "answer dom0's ask prompts from rules 'SERVICE SOURCE ANSWER' "
            + "instead of prompt agents (./qrexec prompt) on SOCKET_DIR/prompt.sock")
    Path askAnswers;

    /** Parses {@code NAME:DOMID:SOCKET_DIR}. */
    static AgentAddress parseQube(String spec) {
        String[] parts = spec.split(":", 3);
        if (parts.length != 3 || parts[0].isEmpty() || parts[2].isEmpty()) {
            throw new IllegalArgumentException("--qube must be NAME:DOMID:SOCKET_DIR, got '" + spec + "'");
        }
        int id;
        try {
            id = Integer.parseInt(parts[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--qube " + spec + ": domain id '" + parts[1] + "' is not a number");
        }
        return new AgentAddress(parts[0], id, Path.of(parts[2]));
    }

    @Override
    public Integer call() throws Exception {
        if (demoSystem) {
            return serveDemoSystem();
        }
        if ((systemInfo == null) == (hypervisor == null)) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "give exactly one of --system-info FILE, --hypervisor CONFIG and --demo-system");
        }
        BrokerServer.Builder b = BrokerServer.builder()
                .policyDir(policyDir)
                .socketDir(socketDir)
                .servePolicySocket(!noPolicySocket)
                .config(DaemonConfig.defaults().withDefaultUser(defaultUser).withMaxCallsPerQube(maxCallsPerQube))
                .dom0Services(new Dom0Services(serviceDirs))
                .askTimeout(java.time.Duration.ofSeconds(askTimeoutSeconds));
        if (askAnswers != null) {
            b.dom0Prompt(dev.qrexec.broker.daemon.ask.ScriptedPrompter.load(askAnswers));
        }
        if (promptGroup != null) {
            b.promptSocket(true, new AdminAccess(AdminAccess.ownerOnly().ownerUid(), java.util.Set.of(promptGroup)));
        }
        for (String q : qubes) {
            b.qube(parseQube(q));
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "qrexec-serve-shutdown"));
        if (hypervisor != null) {
            try (ManagedQubes managed = new ManagedQubes(Hypervisors.create(HypervisorConfig.parse(hypervisor)),
                    stateDir.resolve("dispvm"), socketDir.resolve("qubes"), inProcessAgents);
                 BrokerServer server = b.systemInfo(managed::systemInfo).qubeStarter(managed.starter())
                         .disposables(managed.disposables()).start();
                 AdminServer admin = AdminServer.start(adminSocket != null ? adminSocket : socketDir.resolve("qubesd.sock"),
                         new DispvmAdminBackend(managed.manager()), AdminAccess.ownerOnly())) {
                managed.attach(server.daemon());
                System.err.println("qrexec serve: ready (backend " + hypervisor + ", sockets in " + socketDir
                        + ", admin socket " + admin.path() + ")");
                stop.await();
            }
            return 0;
        }
        try (SystemInfoFile system = SystemInfoFile.open(systemInfo, PolicyService.ReloadSettings.defaults());
             BrokerServer server = b.systemInfo(system).start()) {
            System.err.println("qrexec serve: ready (" + qubes.size() + " qube(s), sockets in " + socketDir + ")");
            stop.await();
        }
        return 0;
    }

    /**
     * The demo's system, served until SIGTERM or Ctrl-C. The shutdown hook waits for the close, so the
     * qubes are stopped and their cgroups, mounts and sockets removed before the JVM exits.
     */
    private int serveDemoSystem() throws Exception {
        if (systemInfo != null || hypervisor != null || !qubes.isEmpty()) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--demo-system builds its own system: it takes no --system-info, --hypervisor or --qube");
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                closed.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "qrexec-serve-shutdown"));
        try (dev.qrexec.broker.demo.DemoSystem system =
                     dev.qrexec.broker.demo.DemoSystem.builder(stateDir).backend(backend).start()) {
            System.err.println("qrexec serve: " + system.backendLine());
            System.err.println("qrexec serve: ready (demo system, state in " + system.layout().stateDir()
                    + ", sockets in " + system.layout().socketDir() + "); stop with Ctrl-C");
            stop.await();
        } finally {
            closed.countDown();
        }
        return 0;
    }

    public static int execute(String... args) {
        return new CommandLine(new ServeCommand()).execute(args);
    }
}
