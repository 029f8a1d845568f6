package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the broker connected to one qube's agent: the agent listens (spec 1), so the broker
 * connects, retrying with a doubling pause while the socket is missing or refuses, and connects
 * again when a restarted agent comes back. Each connection is a fresh {@link AgentSession}.
 * Fields are owned by {@link #loop}.
 */
final class AgentConnector {

    private static final Logger LOG = System.getLogger(AgentConnector.class.getName());
    private static final long FIRST_PAUSE_MS = 5;

    private final BrokerDaemon daemon;
    private final AgentAddress address;
    private final EventLoop loop;
    private volatile boolean stopped;
    private long pauseMs = FIRST_PAUSE_MS;
    private Channel channel;

    AgentConnector(BrokerDaemon daemon, AgentAddress address, EventLoop loop) {
        this.daemon = daemon;
        this.address = address;
        this.loop = loop;
    }

    AgentAddress address() {
        return address;
    }

    /** Starts connecting; the first session is published at once so callers can wait on it. */
    void start(AgentSession first) {
        loop.execute(() -> connect(first));
    }

    private void connect(AgentSession session) {
        if (stopped) {
            session.closed();
            return;
        }
        daemon.transport().connect(loop, address.controlSocket(), new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                session.attach(ch);
                WirePipeline.install(ch, ChannelRole.DAEMON_CONTROL);
                ch.pipeline().addLast(new ControlChannelHandler(daemon, session));
            }
        }).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                LOG.log(Level.DEBUG, () -> "agent of " + address.name() + " not reachable yet: " + f.cause());
                retryLater(session);
                return;
            }
            channel = f.channel();
            pauseMs = FIRST_PAUSE_MS;
            channel.closeFuture().addListener(c -> reconnect());
        });
    }

    private void retryLater(AgentSession session) {
        if (stopped) {
            session.closed();
            return;
        }
        long pause = pauseMs;
        pauseMs = Math.min(pauseMs * 2, daemon.config().agentRetryMax().toMillis());
        loop.schedule(() -> connect(session), pause, TimeUnit.MILLISECONDS);
    }

    private void reconnect() {
        channel = null;
        if (stopped) {
            return;
        }
        AgentSession next = daemon.replaceSession(address);
        if (next != null) {
            retryLater(next);
        }
    }

    /** Stops reconnecting and closes the control channel. */
    void stop() {
        stopped = true;
        loop.execute(() -> {
            if (channel != null) {
                channel.close();
            }
        });
    }
}
