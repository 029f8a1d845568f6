package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Service;
import dev.qrexec.broker.daemon.dom0.ServiceCall;
import dev.qrexec.broker.daemon.dom0.ServiceChannelHandler;
import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.ServiceConnect;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A call from a qube to a service in dom0 (spec qrexec-wire.md 6.2): SERVICE_CONNECT{0, P} to the
 * caller's agent, then the broker connects to the caller's listener {@code vchan.<S>.0.<P>} and
 * serves the call as the service side. Ends when the agent reports CONNECTION_TERMINATED{0, P}.
 * Fields are owned by {@link #loop}.
 */
final class Dom0Call implements CallLeg {

    private static final Logger LOG = System.getLogger(Dom0Call.class.getName());

    private final BrokerDaemon daemon;
    private final EventLoop loop;
    private final AgentSession source;
    private final CallRequest request;
    private final ServiceCall call;
    private final Dom0Service service;
    private final Runnable onDone;
    private int port = -1;
    private long deadlineNanos;
    private boolean done;

    Dom0Call(BrokerDaemon daemon, EventLoop loop, AgentSession source, CallRequest request, ServiceCall call,
             Dom0Service service, Runnable onDone) {
        this.daemon = daemon;
        this.loop = loop;
        this.source = source;
        this.request = request;
        this.call = call;
        this.service = service;
        this.onDone = onDone;
    }

    void start() {
        port = source.allocatePort(this);
        if (port < 0) {
            done = true;
            daemon.refuse(source, request, "no free data port on " + source.name());
            onDone.run();
            return;
        }
        source.send(new ServiceConnect(0, port, request.requestId()));
        deadlineNanos = System.nanoTime() + daemon.config().dataConnectTimeout().toNanos();
        connect(1);
    }

    private void connect(int attempt) {
        if (done) {
            return;
        }
        Path socket = VchanSockets.path(source.address().socketDir(), source.domainId(), 0, port);
        daemon.transport().connect(loop, socket, new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                WirePipeline.install(ch, ChannelRole.DATA_SERVICE);
                ch.pipeline().addLast(new ServiceChannelHandler(call, service, daemon.serviceExecutor()));
            }
        }).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                return;
            }
            if (System.nanoTime() - deadlineNanos > 0) {
                LOG.log(Level.WARNING, "{0}: caller did not listen on {1}: {2}", this, socket, f.cause());
                return;
            }
            loop.schedule(() -> connect(attempt + 1), RelayCall.retryDelayMicros(attempt), TimeUnit.MICROSECONDS);
        });
    }

    @Override
    public void terminated(AgentSession session, int terminatedPort) {
        Loops.run(loop, () -> {
            if (!done) {
                done = true;
                onDone.run();
            }
        });
    }

    @Override
    public String toString() {
        return "call " + request.source() + " -> dom0 " + call.fullName() + " [" + request.requestId().displayText() + "]";
    }
}
