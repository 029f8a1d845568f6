package dev.qrexec.broker.server;

import dev.qrexec.broker.admin.AdminAccess;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.DisposableProvider;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.daemon.UnixSocketTransport;
import dev.qrexec.broker.daemon.ask.ClientServiceCaller;
import dev.qrexec.broker.daemon.ask.Dom0AskService;
import dev.qrexec.broker.daemon.ask.GuiPrompter;
import dev.qrexec.broker.daemon.ask.PromptHub;
import dev.qrexec.broker.daemon.ask.PromptServer;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.daemon.policy.EngineCallPolicy;
import dev.qrexec.broker.daemon.policy.PolicyEvalService;
import dev.qrexec.policy.daemon.AskingResponder;
import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.daemon.PolicySocketServer;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reply.AskPrompter;
import dev.qrexec.policy.system.SystemInfo;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The whole daemon, wired: the policy in force (hot-reloaded), the policy.sock server answering
 * with that same engine, the broker daemon evaluating it in-process (asks go to the source's GUI
 * qube: dom0's prompt agents on {@link #PROMPT_SOCKET}, or a {@code policy.Ask} call into the
 * qube), the local sockets for dom0 tools, and the declared qubes. Build with {@link #builder()}; {@link #close()} stops everything
 * in reverse order.
 */
public final class BrokerServer implements AutoCloseable {

    private static final Logger LOG = System.getLogger(BrokerServer.class.getName());

    /** The prompt socket's name in the socket directory, where {@code ./qrexec prompt} connects. */
    public static final String PROMPT_SOCKET = "prompt.sock";

    private final List<AutoCloseable> resources;
    private final BrokerDaemon daemon;
    private final PolicySocketServer policySocket;
    private final PromptHub promptHub;
    private final AskingResponder askingResponder;

    private BrokerServer(List<AutoCloseable> resources, BrokerDaemon daemon, PolicySocketServer policySocket,
                         PromptHub promptHub, AskingResponder askingResponder) {
        this.resources = resources;
        this.daemon = daemon;
        this.policySocket = policySocket;
        this.promptHub = promptHub;
        this.askingResponder = askingResponder;
    }

    /**
     * The responder the broker's own calls use: asks go to the user, notifications are sent. The
     * policy.sock server should answer with it too once it can reply asynchronously
     * (docs/architecture/broker-ask.md).
     */
    public AskingResponder askingResponder() {
        return askingResponder;
    }

    /** dom0's prompt: where asks of sources whose GUI qube is dom0 go (unless answers are scripted). */
    public PromptHub promptHub() {
        return promptHub;
    }

    public static Builder builder() {
        return new Builder();
    }

    public BrokerDaemon daemon() {
        return daemon;
    }

    /** The policy.sock server, or null if none was asked for. */
    public PolicySocketServer policySocket() {
        return policySocket;
    }

    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing " + resources.get(i) + " failed", e);
            }
        }
    }

    /** Validating builder: each setter checks its argument, {@link #start()} checks the whole. */
    public static final class Builder {
        private Path policyDir;
        private Supplier<SystemInfo> systemInfo;
        private Path socketDir;
        private boolean servePolicySocket = true;
        private DaemonConfig config = DaemonConfig.defaults();
        private Dom0Services dom0 = Dom0Services.none();
        private QubeStarter starter = QubeStarter.NONE;
        private DisposableProvider disposables = DisposableProvider.NONE;
        private int ioThreads = 2;
        private Duration askTimeout = AskingResponder.DEFAULT_ASK_TIMEOUT;
        private AskPrompter dom0Prompt;
        private AdminAccess promptAccess = AdminAccess.ownerOnly();
        private boolean servePromptSocket = true;
        private final List<AgentAddress> qubes = new ArrayList<>();

        private Builder() {
        }

        /** Directory of the policy ({@code policy.d} layout), watched and reloaded. Required. */
        public Builder policyDir(Path dir) {
            this.policyDir = Objects.requireNonNull(dir, "policyDir");
            return this;
        }

        /** The system info the policy sees. Required. */
        public Builder systemInfo(Supplier<SystemInfo> system) {
            this.systemInfo = Objects.requireNonNull(system, "systemInfo");
            return this;
        }

        /** Where {@code policy.sock} and the local sockets {@code qrexec.<domid>} go. Required. */
        public Builder socketDir(Path dir) {
            this.socketDir = Objects.requireNonNull(dir, "socketDir");
            return this;
        }

        /** Whether to serve {@code policy.sock} for external qrexec-daemons and tools (default true). */
        public Builder servePolicySocket(boolean serve) {
            this.servePolicySocket = serve;
            return this;
        }

        public Builder config(DaemonConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        public Builder dom0Services(Dom0Services services) {
            this.dom0 = Objects.requireNonNull(services, "dom0Services");
            return this;
        }

        public Builder qubeStarter(QubeStarter starter) {
            this.starter = Objects.requireNonNull(starter, "qubeStarter");
            return this;
        }

        public Builder disposables(DisposableProvider disposables) {
            this.disposables = Objects.requireNonNull(disposables, "disposables");
            return this;
        }

        public Builder ioThreads(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("ioThreads must be >= 1, got " + n);
            }
            this.ioThreads = n;
            return this;
        }

        /** How long a user may take to answer an ask (default 60 s); then the call is denied. */
        public Builder askTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "askTimeout");
            if (timeout.toMillis() < 1) {
                throw new IllegalArgumentException("askTimeout must be at least 1 ms, was " + timeout);
            }
            this.askTimeout = timeout;
            return this;
        }

        /**
         * Answers dom0's asks with {@code prompt} (e.g. a {@code ScriptedPrompter}) instead of the
         * prompt agents of the prompt socket. Notifications still go to the prompt agents.
         */
        public Builder dom0Prompt(AskPrompter prompt) {
            this.dom0Prompt = Objects.requireNonNull(prompt, "dom0Prompt");
            return this;
        }

        /**
         * Who may connect a prompt agent to {@code SOCKET_DIR/prompt.sock} (default: root and this
         * process's user); {@code serve = false} serves no prompt socket.
         */
        public Builder promptSocket(boolean serve, AdminAccess access) {
            this.servePromptSocket = serve;
            this.promptAccess = Objects.requireNonNull(access, "access");
            return this;
        }

        /** A running qube whose agent the broker connects to (own or foreign, spec item 9). */
        public Builder qube(AgentAddress address) {
            Objects.requireNonNull(address, "address");
            for (AgentAddress q : qubes) {
                if (q.name().equals(address.name()) || q.domainId() == address.domainId()) {
                    throw new IllegalArgumentException("qube " + address.name() + " (domain " + address.domainId()
                            + ") clashes with " + q.name() + " (domain " + q.domainId() + ")");
                }
            }
            qubes.add(address);
            return this;
        }

        public BrokerServer start() throws IOException {
            if (policyDir == null || systemInfo == null || socketDir == null) {
                throw new IllegalStateException("policyDir, systemInfo and socketDir are required (missing: "
                        + (policyDir == null ? "policyDir " : "") + (systemInfo == null ? "systemInfo " : "")
                        + (socketDir == null ? "socketDir" : "").trim() + ")");
            }
            List<AutoCloseable> resources = new ArrayList<>();
            try {
                java.nio.file.Files.createDirectories(socketDir);
                PolicyService policy = PolicyService.open(PolicyLocation.of(policyDir));
                resources.add(policy);
                EngineResponder responder = new EngineResponder(policy, systemInfo);
                PromptHub hub = new PromptHub();
                AtomicReference<BrokerDaemon> daemonRef = new AtomicReference<>();
                ClientServiceCaller guiCalls = new ClientServiceCaller(
                        name -> Optional.ofNullable(daemonRef.get()).flatMap(d -> d.session(name))
                                .map(s -> s.address().socketDir()),
                        () -> Optional.ofNullable(daemonRef.get()).flatMap(BrokerDaemon::localSocketDir));
                resources.add(guiCalls);
                AskPrompter dom0Asks = dom0Prompt != null ? dom0Prompt : hub;
                GuiPrompter gui = new GuiPrompter(dom0Asks, hub, guiCalls);
                AskingResponder asking = AskingResponder.builder(policy, systemInfo).prompter(gui).notifier(gui)
                        .askTimeout(askTimeout).build();
                if (dom0.find("policy.Ask", "").isEmpty()) {
                    dom0.register("policy.Ask", new Dom0AskService(dom0Asks, askTimeout));
                }
                if (servePromptSocket) {
                    try {
                        resources.add(PromptServer.start(socketDir.resolve(PROMPT_SOCKET), hub, promptAccess));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while opening the prompt socket", e);
                    }
                }
                // Registered unless the caller brought its own implementation of these names.
                if (dom0.find("policy.EvalSimple", "x").isEmpty()) {
                    dom0.register("policy.EvalSimple", PolicyEvalService.simple(responder, systemInfo));
                }
                if (dom0.find("policy.EvalGUI", "x").isEmpty()) {
                    dom0.register("policy.EvalGUI", PolicyEvalService.gui(responder, systemInfo));
                }
                PolicySocketServer policySocket = null;
                if (servePolicySocket) {
                    // The same asking responder as the broker's own calls: a real qrexec-daemon's
                    // ask gets its answer once the user chose (the reply outlives the read deadline).
                    policySocket = PolicySocketServer.builder().socket(socketDir.resolve("policy.sock"))
                            .asyncResponder(asking).replyTimeout(askTimeout.plusSeconds(5)).start();
                    resources.add(policySocket);
                }
                UnixSocketTransport transport = UnixSocketTransport.create(ioThreads);
                resources.add(transport);
                BrokerDaemon daemon = new BrokerDaemon(transport, config, EngineCallPolicy.asking(asking, systemInfo),
                        dom0, starter, disposables);
                daemonRef.set(daemon);
                resources.add(daemon);
                daemon.serveLocalSockets(socketDir);
                for (AgentAddress q : qubes) {
                    daemon.declare(q);
                }
                LOG.log(Level.INFO, "broker serving {0} qube(s); policy from {1}; sockets in {2}", qubes.size(),
                        policyDir, socketDir);
                return new BrokerServer(resources, daemon, policySocket, hub, asking);
            } catch (IOException | RuntimeException e) {
                for (int i = resources.size() - 1; i >= 0; i--) {
                    try {
                        resources.get(i).close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
    }
}
