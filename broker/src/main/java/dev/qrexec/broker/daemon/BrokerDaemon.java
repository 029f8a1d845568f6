package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.wire.ServiceRefused;
import dev.qrexec.broker.wire.Trigger;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * The daemon role for every qube at once (spec qrexec-wire.md 4, 13): it keeps a control connection
 * to each declared qube's agent, validates triggers as the C daemon does, asks the policy, and hands
 * allowed calls to the {@link CallRouter}.
 *
 * <p>Threads: each control channel and all data channels of the calls it starts run on one event
 * loop of the {@link Transport}; policy runs on a bounded policy pool; dom0 services on a bounded
 * service pool. The session table is a concurrent map; nothing holds a lock across I/O.
 */
public final class BrokerDaemon implements AutoCloseable {

    private static final Logger LOG = System.getLogger(BrokerDaemon.class.getName());

    private final Transport transport;
    private final DaemonConfig config;
    private final CallPolicy policy;
    private final CallRouter router;
    private final ThreadPoolExecutor policyPool;
    private final ThreadPoolExecutor servicePool;
    private final Map<String, Registration> qubes = new ConcurrentHashMap<>();
    private volatile LocalSockets localSockets;
    private volatile java.nio.file.Path localSocketDir;

    /** A declared qube: its connector and its current session. */
    private static final class Registration {
        final AgentConnector connector;
        volatile AgentSession session;

        Registration(AgentConnector connector, AgentSession session) {
            this.connector = connector;
            this.session = session;
        }
    }

    public BrokerDaemon(Transport transport, DaemonConfig config, CallPolicy policy, Dom0Services dom0,
                        QubeStarter starter, DisposableProvider disposables) {
        this.transport = Objects.requireNonNull(transport, "transport");
        this.config = Objects.requireNonNull(config, "config");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.router = new CallRouter(this, Objects.requireNonNull(dom0, "dom0"),
                Objects.requireNonNull(starter, "starter"), Objects.requireNonNull(disposables, "disposables"));
        this.policyPool = new ThreadPoolExecutor(config.policyThreads(), config.policyThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(config.policyQueue()), threads("qrexec-policy"));
        this.servicePool = new ThreadPoolExecutor(config.serviceThreads(), config.serviceThreads(), 30,
                TimeUnit.SECONDS, new ArrayBlockingQueue<>(config.serviceThreads()), threads("qrexec-dom0-service"));
        policyPool.allowCoreThreadTimeOut(true);
        servicePool.allowCoreThreadTimeOut(true);
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Declares a running qube: the broker connects to its agent (retrying until it listens) and serves
     * its calls. Returns the session, which becomes READY after the handshake.
     *
     * @throws IllegalStateException if a qube of that name is already declared
     */
    public AgentSession declare(AgentAddress address) {
        AgentSession session = new AgentSession(address);
        AgentConnector connector = new AgentConnector(this, address, transport.group().next());
        Registration reg = new Registration(connector, session);
        if (qubes.putIfAbsent(address.name(), reg) != null) {
            throw new IllegalStateException("qube " + address.name() + " is already declared");
        }
        for (Registration other : qubes.values()) {
            if (other != reg && other.connector.address().domainId() == address.domainId()) {
                qubes.remove(address.name(), reg);
                throw new IllegalStateException("domain id " + address.domainId() + " of " + address.name()
                        + " is already used by " + other.connector.address().name());
            }
        }
        connector.start(session);
        LocalSockets local = localSockets;
        if (local != null) {
            local.open(address);
        }
        return session;
    }

    /**
     * Serves the local sockets {@code qrexec.<domid>} and {@code qrexec.<name>} in {@code dir} for
     * dom0 tools (qrexec-client), for every qube declared from now on and already declared.
     */
    public void serveLocalSockets(java.nio.file.Path dir) {
        LocalSockets local = new LocalSockets(this, dir);
        localSocketDir = dir;
        localSockets = local;
        for (Registration reg : qubes.values()) {
            local.open(reg.connector.address());
        }
    }

    /**
     * Like {@link #declare}, but returns the current session if a qube of that name is already
     * declared at the same address (a start event and a caller racing to declare it).
     *
     * @throws IllegalStateException if the name or domain id is declared with another address
     */
    public AgentSession declareIfAbsent(AgentAddress address) {
        while (true) {
            Registration reg = qubes.get(address.name());
            if (reg != null) {
                if (!reg.connector.address().equals(address)) {
                    throw new IllegalStateException("qube " + address.name() + " is declared at "
                            + reg.connector.address() + ", not " + address);
                }
                return reg.session;
            }
            try {
                return declare(address);
            } catch (IllegalStateException raced) {
                if (!qubes.containsKey(address.name())) {
                    throw raced;
                }
            }
        }
    }

    /** Stops serving a qube (halted or destroyed): closes its control channel, ends its calls. */
    public void forget(String name) {
        Registration reg = qubes.remove(name);
        if (reg != null) {
            reg.connector.stop();
            LocalSockets local = localSockets;
            if (local != null) {
                local.close(name);
            }
        }
    }

    /** Where the local sockets {@code qrexec.<name>} are served, once {@link #serveLocalSockets} was called. */
    public Optional<java.nio.file.Path> localSocketDir() {
        return Optional.ofNullable(localSocketDir);
    }

    /** The current session of a declared qube. */
    public Optional<AgentSession> session(String name) {
        Registration reg = qubes.get(name);
        return reg == null ? Optional.empty() : Optional.of(reg.session);
    }

    public Collection<AgentSession> sessions() {
        return qubes.values().stream().map(r -> r.session).collect(Collectors.toUnmodifiableList());
    }

    /** Called by a connector after its channel closed: a fresh session for the next connection. */
    AgentSession replaceSession(AgentAddress address) {
        Registration reg = qubes.get(address.name());
        if (reg == null) {
            return null;
        }
        AgentSession next = new AgentSession(address);
        reg.session = next;
        return next;
    }

    Transport transport() {
        return transport;
    }

    public DaemonConfig config() {
        return config;
    }

    Executor serviceExecutor() {
        return servicePool;
    }

    /** A trigger arrived on {@code source}'s control channel (on its event loop). */
    void onTrigger(AgentSession source, Trigger trigger) {
        TriggerValidator.Result result = TriggerValidator.validate(trigger, source.name(), source.domainId());
        if (result instanceof TriggerValidator.Invalid invalid) {
            source.log(Level.WARNING, "{0}: invalid {1} refused: {2}", source.name(), trigger.type(), invalid.reason());
            source.send(new ServiceRefused(trigger.requestId()));
            return;
        }
        CallRequest request = ((TriggerValidator.Valid) result).request();
        if (!source.tryBeginCall(config.maxCallsPerQube())) {
            source.log(Level.WARNING, "{0}: {1} to {2} refused: {3} calls already in flight (limit)",
                    source.name(), request.serviceAndArg(), request.target(), source.callsInFlight());
            source.send(new ServiceRefused(request.requestId()));
            return;
        }
        try {
            // The pool thread only evaluates; an ask's wait for the user holds no thread.
            policyPool.execute(() -> evaluate(request).whenComplete((verdict, error) -> {
                PolicyVerdict v = error != null ? failed(request, error)
                        : verdict != null ? verdict : new PolicyVerdict.Deny("policy returned no verdict");
                try {
                    source.loop().execute(() -> router.route(source, request, v));
                } catch (RejectedExecutionException shuttingDown) {
                    LOG.log(Level.DEBUG, "event loop gone, dropping {0}", request);
                }
            }));
        } catch (RejectedExecutionException e) {
            refuse(source, request, "policy queue full (" + config.policyQueue() + " waiting)");
            source.endCall();
        }
    }

    private CompletableFuture<PolicyVerdict> evaluate(CallRequest request) {
        try {
            CompletableFuture<PolicyVerdict> f = policy.evaluateAsync(request);
            return f != null ? f : CompletableFuture.completedFuture(new PolicyVerdict.Deny("policy returned no verdict"));
        } catch (RuntimeException | StackOverflowError e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static PolicyVerdict failed(CallRequest request, Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        LOG.log(Level.WARNING, "policy failed on " + request + ", denying", cause);
        return new PolicyVerdict.Deny("policy error: " + cause);
    }

    /** Refuses a pending call: SERVICE_REFUSED with the ident bytes as received. */
    void refuse(AgentSession source, CallRequest request, String reason) {
        source.log(Level.INFO, "qrexec: {0}: {1} -> {2}: refused: {3}", request.serviceAndArg(), request.source(),
                request.target(), reason);
        source.send(new ServiceRefused(request.requestId()));
    }

    @Override
    public void close() {
        for (String name : List.copyOf(qubes.keySet())) {
            forget(name);
        }
        LocalSockets local = localSockets;
        if (local != null) {
            local.close();
        }
        policyPool.shutdownNow();
        servicePool.shutdownNow();
    }
}
