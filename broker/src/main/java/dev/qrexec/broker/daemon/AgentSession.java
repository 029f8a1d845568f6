package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.QrexecMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker's view of one qube's agent: its control channel, its data ports, the calls it takes
 * part in. The control channel is written from any thread (Netty writes are thread-safe); the
 * port table and counters are thread-safe; {@link #state} changes on the control channel's loop.
 */
public final class AgentSession {

    private static final Logger LOG = System.getLogger(AgentSession.class.getName());

    /** Life of the control connection. */
    public enum State {
        /** Connecting to the agent, or waiting for its HELLO. */
        CONNECTING,
        /** Handshake done: triggers are served and calls may target this qube. */
        READY,
        /** The control channel is gone; calls involving this qube have been ended. */
        CLOSED
    }

    private final AgentAddress address;
    private final PortAllocator ports = new PortAllocator();
    private final Map<Integer, CallLeg> legs = new ConcurrentHashMap<>();
    private final AtomicInteger callsInFlight = new AtomicInteger();
    private final LogThrottle logThrottle = new LogThrottle(20);
    private final CompletableFuture<AgentSession> ready = new CompletableFuture<>();
    private volatile State state = State.CONNECTING;
    private volatile Channel control;
    private volatile int version;

    AgentSession(AgentAddress address) {
        this.address = address;
    }

    public AgentAddress address() {
        return address;
    }

    public String name() {
        return address.name();
    }

    public int domainId() {
        return address.domainId();
    }

    public State state() {
        return state;
    }

    /** The negotiated control-channel version, 0 before the handshake. */
    public int version() {
        return version;
    }

    /** Completes when the handshake is done; fails if the session closes first. */
    public CompletableFuture<AgentSession> whenReady() {
        return ready;
    }

    /** The event loop of the control channel (null before the channel exists). */
    EventLoop loop() {
        Channel c = control;
        return c == null ? null : c.eventLoop();
    }

    void attach(Channel channel) {
        this.control = channel;
    }

    void markReady(int negotiated) {
        this.version = negotiated;
        this.state = State.READY;
        ready.complete(this);
    }

    /** Sends a control message to the agent. */
    ChannelFuture send(QrexecMessage msg) {
        Channel c = control;
        if (c == null) {
            throw new IllegalStateException("no control channel to " + name());
        }
        return c.writeAndFlush(msg);
    }

    /** Takes a data port for {@code leg}, or -1 if all are in use. */
    int allocatePort(CallLeg leg) {
        if (state == State.CLOSED) {
            return -1;
        }
        int port = ports.allocate();
        if (port > 0) {
            legs.put(port, leg);
            // closed() sets the state before it ends the legs: if it ran meanwhile, either it saw
            // this leg (and ends it), or we see the state here and take the port back.
            if (state == State.CLOSED && legs.remove(port, leg)) {
                ports.release(port);
                return -1;
            }
        }
        return port;
    }

    /** Frees a port that never got its data connection started (setup failed before the agent heard of it). */
    void abandonPort(int port) {
        legs.remove(port);
        ports.release(port);
    }

    /** The agent reported CONNECTION_TERMINATED for {@code port}. */
    void connectionTerminated(int domain, int port) {
        CallLeg leg = legs.remove(port);
        if (leg == null) {
            LOG.log(Level.WARNING, "{0}: CONNECTION_TERMINATED for port {1} (domain {2}) that has no call; ignored",
                    name(), port, domain);
            return;
        }
        ports.release(port);
        leg.terminated(this, port);
    }

    /**
     * Logs a line about this qube's requests unless it has already had its share this second
     * (a qube flooding bad requests must not flood the log too).
     */
    void log(Level level, String format, Object... args) {
        if (!LOG.isLoggable(level)) {
            return;
        }
        long dropped = logThrottle.admit(System.nanoTime());
        if (dropped < 0) {
            return;
        }
        if (dropped > 0) {
            LOG.log(Level.WARNING, "{0}: {1} log lines about its requests were dropped (over 20/s)", name(), dropped);
        }
        LOG.log(level, format, args);
    }

    /** Counts a call from this qube; false if it already has {@code max} in flight. */
    boolean tryBeginCall(int max) {
        while (true) {
            int n = callsInFlight.get();
            if (n >= max) {
                return false;
            }
            if (callsInFlight.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void endCall() {
        callsInFlight.decrementAndGet();
    }

    public int callsInFlight() {
        return callsInFlight.get();
    }

    /** Bytes written to the agent's control channel and not yet taken by the socket (diagnostics). */
    public long pendingControlBytes() {
        Channel c = control;
        io.netty.channel.ChannelOutboundBuffer out = c == null ? null : c.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    public int portsInUse() {
        return ports.inUse();
    }

    /** The control channel closed: every leg on this qube ends (its agent is gone). */
    void closed() {
        state = State.CLOSED;
        ready.completeExceptionally(new IllegalStateException("agent of " + name() + " disconnected"));
        for (Integer port : legs.keySet()) {
            CallLeg leg = legs.remove(port);
            if (leg != null) {
                ports.release(port);
                leg.terminated(this, port);
            }
        }
    }

    @Override
    public String toString() {
        return "AgentSession[" + name() + " #" + domainId() + " " + state + "]";
    }
}
