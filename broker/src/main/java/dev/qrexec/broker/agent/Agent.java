package dev.qrexec.broker.agent;

import dev.qrexec.broker.agent.stream.WritabilityGate;
import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.ConnectionTerminated;
import dev.qrexec.broker.wire.WireLimits;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import dev.qrexec.xen.transport.VchanAddress;
import dev.qrexec.xen.transport.VchanConnectException;
import dev.qrexec.xen.transport.VchanTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The qrexec agent of one qube: listens on its control channel {@code vchan.<domain>.0.512.sock}
 * (the daemon connects, spec 1) and on the trigger socket, and runs the calls the daemon sends.
 *
 * <p>Threads: one event loop serves every channel (an agent has few); worker threads start
 * services and copy their streams (at most {@code 4 * maxCalls}, created on demand; beyond the
 * {@value #KEPT_WORKERS} kept for the next call, idle ones end after 30 s). Unlike the C agent, which must be restarted after its daemon goes away (spec 10.4),
 * this agent accepts a new daemon once the previous control connection has closed; one control
 * connection at a time.
 */
public final class Agent implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    static final Duration RETRY_DELAY = Duration.ofMillis(10);
    /** The whole warm-up gives up after this; the agent then starts anyway. */
    static final Duration WARM_UP_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Worker threads kept when idle: as many as one call uses (launch, stdin, stdout, stderr, a Java
     * service). Idle threads beyond these end after 30 s, and in a paused preload that happens at the
     * thaw, in the middle of its first call; these stay, so that call finds its threads ready.
     */
    static final int KEPT_WORKERS = 5;

    private final AgentConfig config;
    private final AgentState state;
    private final VchanTransport transport;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor workers;
    private final ServiceLauncher launcher;
    private final AtomicReference<Channel> control = new AtomicReference<>();
    private final AtomicInteger runningCalls = new AtomicInteger();
    private Channel controlListener;
    private TriggerSocket triggers;

    private Agent(AgentConfig config, AgentState state) {
        this.config = config;
        this.state = state;
        // Native epoll: the agent's own listeners are epoll domain sockets on the same event loop.
        this.transport = VchanTransport.create(VchanTransport.Kind.EPOLL, 1);
        this.group = transport.eventLoopGroup();
        this.workers = new ThreadPoolExecutor(Math.min(KEPT_WORKERS, 4 * config.maxCalls()), 4 * config.maxCalls(), 30,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(), new DefaultThreadFactory("agent-worker", true));
        this.launcher = new ServiceLauncher(config.serviceLocator(), config.configDirs(), config.javaServices(),
                state, config.userMode(), workers, config.sessionTimeout());
    }

    /** Starts listening; returns once both sockets exist. */
    public static Agent start(AgentConfig config, AgentState state) throws IOException {
        return start(config, state, 0);
    }

    /**
     * Starts listening, then makes {@code warmUpRounds} calls to itself through its whole service
     * path ({@link WarmUp}) before it reports the system running ({@code qubes.WaitForRunningSystem}),
     * so that a preloaded disposable is paused with that path loaded, linked and partly compiled.
     * A warm-up that fails is logged and skipped; it never fails the start.
     */
    public static Agent start(AgentConfig config, AgentState state, int warmUpRounds) throws IOException {
        if (warmUpRounds < 0) {
            throw new IllegalArgumentException("warmUpRounds must not be negative, got " + warmUpRounds);
        }
        Agent agent = new Agent(config, state);
        try {
            agent.bind();
        } catch (IOException | RuntimeException e) {
            agent.close();
            throw e;
        }
        if (warmUpRounds > 0) {
            WarmUp.Result r = new WarmUp(agent).run(warmUpRounds, WARM_UP_TIMEOUT);
            LOG.log(System.Logger.Level.INFO, r.toString());
        }
        state.markSystemRunning();
        LOG.log(System.Logger.Level.INFO, "agent of " + config.qubeName() + " (domain " + config.domain()
                + ") listening on " + agent.controlPath() + " and " + config.triggerSocket());
        return agent;
    }

    private void bind() throws IOException {
        Files.createDirectories(config.vchanDir());
        Path triggerDir = config.triggerSocket().getParent();
        if (triggerDir != null) {
            Files.createDirectories(triggerDir);
        }
        triggers = new TriggerSocket(group, config.triggerSocket(), control::get);
        Path path = controlPath();
        Files.deleteIfExists(path);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Channel current = control.get();
                        if (current != null && current.isActive()) {
                            LOG.log(System.Logger.Level.WARNING, "second daemon connection refused: one at a time");
                            ch.close();
                            return;
                        }
                        WirePipeline.install(ch, ChannelRole.AGENT_CONTROL);
                        ch.pipeline().addLast(new ControlHandler(Agent.this));
                    }
                });
        var bound = b.bind(new DomainSocketAddress(path.toString())).syncUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on " + path, bound.cause());
        }
        controlListener = bound.channel();
    }

    public Path controlPath() {
        return VchanAddress.listening(config.vchanDir(), config.domain(), 0, WireLimits.CONTROL_PORT).path();
    }

    public AgentState state() {
        return state;
    }

    public AgentConfig config() {
        return config;
    }

    /** Calls whose data channel is open (for tests and status). */
    public int runningCalls() {
        return runningCalls.get();
    }

    TriggerSocket triggers() {
        return triggers;
    }

    void controlReady(Channel ch) {
        control.set(ch);
    }

    void controlLost(Channel ch) {
        if (control.compareAndSet(ch, null)) {
            triggers.controlLost();
        }
    }

    /**
     * EXEC_CMDLINE or JUST_EXEC: connects the data channel to {@code (domain, port)} as vchan
     * client and runs the command there. CONNECTION_TERMINATED follows when the channel closes,
     * or at once if it cannot be connected.
     */
    void startCall(int domain, int port, String commandText, boolean justExec) {
        if (domain < 0 || port <= 0) {
            LOG.log(System.Logger.Level.WARNING, "exec request with invalid endpoint {" + domain + ", " + port
                    + "}, ignored");
            return;
        }
        boolean admitted = runningCalls.incrementAndGet() <= config.maxCalls();
        java.util.function.Supplier<ServiceLauncher.Launch> launch;
        if (!admitted) {
            LOG.log(System.Logger.Level.WARNING, config.maxCalls() + " calls running; failing a new one with 125");
            launch = () -> new ServiceLauncher.Failed(ExitCodes.PROBLEM, "too many calls running");
        } else {
            launch = () -> {
                CommandLine cmd;
                try {
                    cmd = CommandLine.parse(commandText);
                } catch (IllegalArgumentException e) {
                    return new ServiceLauncher.Failed(ExitCodes.PROBLEM, "bad command line: " + e.getMessage());
                }
                return launcher.launch(cmd, justExec);
            };
        }
        String what = RpcInvocation.printable(commandText);
        VchanAddress address;
        try {
            address = VchanAddress.connecting(config.vchanDir(), config.domain(), domain, port);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "exec request with unusable endpoint: " + e.getMessage());
            callEnded(domain, port);
            return;
        }
        connectData(address, dataChannel(what, justExec, launch),
                System.nanoTime() + config.dataConnectTimeout().toNanos(), what, () -> callEnded(domain, port));
    }

    /**
     * A call the agent makes to itself (see {@link WarmUp}): the path of {@link #startCall} from the
     * data connection on, to an endpoint of its own; neither counted nor reported to the daemon.
     */
    void startOwnCall(VchanAddress address, String what, Supplier<ServiceLauncher.Launch> launch,
                      Runnable ended) {
        connectData(address, dataChannel(what, false, launch),
                System.nanoTime() + config.dataConnectTimeout().toNanos(), what, ended);
    }

    ServiceLauncher launcher() {
        return launcher;
    }

    VchanTransport transport() {
        return transport;
    }

    private ChannelInitializer<Channel> dataChannel(String what, boolean justExec,
                                                    Supplier<ServiceLauncher.Launch> launch) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                WirePipeline.install(ch, ChannelRole.DATA_SERVICE);
                WritabilityGate.install(ch);
                ch.pipeline().addLast(new ServiceDataHandler(what, justExec, launch, workers));
            }
        };
    }

    /**
     * Connects a data channel until {@code deadline}. The transport already waits for a peer that
     * is not listening yet; a connect that fails otherwise while the peer is setting up its
     * listener (seen under heavy load as a closed channel) is tried again too, since the caller's
     * listener is about to appear and giving up would fail the whole call.
     */
    private void connectData(VchanAddress address, ChannelInitializer<Channel> init, long deadline, String what,
                             Runnable ended) {
        long remaining = deadline - System.nanoTime();
        transport.connect(address, init, Duration.ofNanos(Math.max(remaining, 0))).addListener(f -> {
            if (f.isSuccess()) {
                Channel ch = (Channel) f.getNow();
                ch.closeFuture().addListener(c -> ended.run());
                return;
            }
            boolean timedOut = f.cause() instanceof VchanConnectException.Timeout;
            if (!timedOut && deadline - System.nanoTime() > RETRY_DELAY.toNanos()) {
                LOG.log(System.Logger.Level.DEBUG, "data channel for '" + what + "' failed (" + f.cause()
                        + "), trying again");
                group.schedule(() -> connectData(address, init, deadline, what, ended),
                        RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "cannot connect data channel for '" + what + "': "
                    + f.cause().getMessage());
            ended.run();
        });
    }

    private void callEnded(int domain, int port) {
        runningCalls.decrementAndGet();
        Channel ctl = control.get();
        if (ctl != null && ctl.isActive()) {
            ctl.writeAndFlush(new ConnectionTerminated(domain, port));
        }
    }

    @Override
    public void close() {
        if (controlListener != null) {
            controlListener.close().syncUninterruptibly();
        }
        Channel ctl = control.getAndSet(null);
        if (ctl != null) {
            ctl.close().syncUninterruptibly();
        }
        if (triggers != null) {
            triggers.close();
        }
        transport.close();
        workers.shutdownNow();
        try {
            Files.deleteIfExists(controlPath());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + controlPath() + ": " + e);
        }
    }
}
