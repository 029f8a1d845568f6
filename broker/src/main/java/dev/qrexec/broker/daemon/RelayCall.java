package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.ExecCommand;
import dev.qrexec.broker.wire.ExitCode;
import dev.qrexec.broker.wire.ServiceConnect;
import dev.qrexec.broker.wire.WireLimits;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A call between two qubes, relayed by the broker: towards the source the broker plays the service
 * (it connects to the qrexec-client-vm listening on {@code vchan.<S>.0.<P>}), towards the target
 * it plays the client (it listens on {@code vchan.0.<T>.<Q>} for the agent's child). Each qube thus
 * only reaches sockets of its own directory.
 *
 * <p>Threading: every field is owned by {@link #loop}; both data channels are registered on it, so
 * relaying is a same-thread hand-over. Leg terminations from other loops hop onto it.
 *
 * <p>Backpressure: a side stops reading while the other side's outbound buffer is above its high
 * water mark, or while the other side is not connected yet; nothing is buffered beyond what one
 * read already decoded.
 */
final class RelayCall implements CallLeg {

    private static final Logger LOG = System.getLogger(RelayCall.class.getName());

    enum Side { SOURCE, TARGET }

    private final BrokerDaemon daemon;
    private final EventLoop loop;
    private final AgentSession source;
    private final AgentSession target;
    private final CallRequest request;
    private final String commandLine;
    private final Runnable onDone;

    private int sourcePort = -1;
    private int targetPort = -1;
    private int legsOpen;
    private Channel listener;
    private final Endpoint src = new Endpoint(Side.SOURCE);
    private final Endpoint tgt = new Endpoint(Side.TARGET);
    private boolean exitForwarded;
    private boolean done;
    private ScheduledFuture<?> acceptTimeout;
    private long sourceDeadlineNanos;

    /** One data channel of the call. */
    private static final class Endpoint {
        final Side side;
        Channel channel;
        boolean ready;
        boolean closed;
        /**
         * A write to this endpoint failed: its peer stopped reading (hung up). Further messages for
         * it are dropped, but what it already sent is still read until its EOF.
         */
        boolean outputBroken;
        /** Messages for this endpoint that arrived before it was ready. */
        final ArrayDeque<Object> pending = new ArrayDeque<>();

        Endpoint(Side side) {
            this.side = side;
        }
    }

    RelayCall(BrokerDaemon daemon, EventLoop loop, AgentSession source, AgentSession target,
              CallRequest request, String commandLine, Runnable onDone) {
        this.daemon = daemon;
        this.loop = loop;
        this.source = source;
        this.target = target;
        this.request = request;
        this.commandLine = commandLine;
        this.onDone = onDone;
    }

    /** Allocates ports, starts the target's listener, then tells both agents. Runs on {@link #loop}. */
    void start() {
        assert loop.inEventLoop();
        sourcePort = source.allocatePort(this);
        targetPort = sourcePort < 0 ? -1 : target.allocatePort(this);
        if (targetPort < 0) {
            if (sourcePort > 0) {
                source.abandonPort(sourcePort);
            }
            refuse("no data port on " + (sourcePort < 0 ? source.name() : target.name()) + " (all in use or agent gone)");
            return;
        }
        // Set before any I/O: a leg may be terminated (its agent gone) from now on.
        legsOpen = 2;
        Path tgtSocket = VchanSockets.path(target.address().socketDir(), 0, target.domainId(), targetPort);
        ChannelFuture bind;
        try {
            bind = daemon.transport().listen(loop, tgtSocket, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    accepted(ch);
                }
            });
        } catch (RuntimeException e) {
            source.abandonPort(sourcePort);
            target.abandonPort(targetPort);
            refuse("cannot listen on " + tgtSocket + ": " + e);
            return;
        }
        bind.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                source.abandonPort(sourcePort);
                target.abandonPort(targetPort);
                refuse("cannot listen on " + tgtSocket + ": " + f.cause());
                return;
            }
            if (done) {
                f.channel().close();
                return;
            }
            listener = f.channel();
            listener.closeFuture().addListener(c -> java.nio.file.Files.deleteIfExists(tgtSocket));
            try {
                // before EXEC_CMDLINE: the target's agent connects only once it has it
                ChannelSocketOwner.grantToDirectoryOwner(tgtSocket);
            } catch (java.io.IOException | RuntimeException e) {
                listener.close();
                source.abandonPort(sourcePort);
                target.abandonPort(targetPort);
                refuse("cannot give " + target.name() + " its data socket " + tgtSocket + ": " + e.getMessage());
                return;
            }
            acceptTimeout = loop.schedule(() -> targetFailed("agent of " + target.name()
                    + " did not connect its data channel"), daemon.config().dataConnectTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
            target.send(ExecCommand.exec(0, targetPort, commandLine))
                    .addListener(w -> logSendFailure(w, target));
            source.send(new ServiceConnect(0, sourcePort, request.requestId()))
                    .addListener(w -> logSendFailure(w, source));
            sourceDeadlineNanos = System.nanoTime() + daemon.config().dataConnectTimeout().toNanos();
            connectSource(1);
        });
    }

    private void logSendFailure(io.netty.util.concurrent.Future<?> f, AgentSession to) {
        if (!f.isSuccess()) {
            LOG.log(Level.WARNING, "{0}: control message to {1} failed: {2}", this, to.name(), f.cause());
        }
    }

    private void refuse(String reason) {
        done = true;
        daemon.refuse(source, request, reason);
        onDone.run();
    }

    /** Connects to the caller's listener, retrying while qrexec-client-vm sets it up. */
    private void connectSource(int attempt) {
        if (done || src.closed) {
            return;
        }
        Path socket = VchanSockets.path(source.address().socketDir(), source.domainId(), 0, sourcePort);
        daemon.transport().connect(loop, socket, new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                WirePipeline.install(ch, ChannelRole.DATA_SERVICE);
                ch.pipeline().addLast(new RelayHandler(RelayCall.this, Side.SOURCE));
            }
        }).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                src.channel = f.channel();
                return;
            }
            if (System.nanoTime() - sourceDeadlineNanos > 0) {
                sourceFailed("caller " + source.name() + " did not listen on " + socket + ": " + f.cause());
                return;
            }
            loop.schedule(() -> connectSource(attempt + 1), retryDelayMicros(attempt), TimeUnit.MICROSECONDS);
        });
    }

    /**
     * Pause before the next attempt to reach a caller's listener: it appears within a few ms of
     * SERVICE_CONNECT, so poll fast at first (libvchan-socket clients poll every 100 us), then back
     * off to 50 ms.
     */
    static long retryDelayMicros(int attempt) {
        return attempt <= 20 ? 250 : Math.min(50_000, 1000L * (attempt - 20));
    }

    private void accepted(Channel ch) {
        if (tgt.channel != null || done) {
            LOG.log(Level.WARNING, "{0}: extra connection on the target data socket, closing it", this);
            ch.close();
            return;
        }
        tgt.channel = ch;
        if (acceptTimeout != null) {
            acceptTimeout.cancel(false);
        }
        // vchan servers accept exactly one connection.
        if (listener != null) {
            listener.close();
        }
        // A failed write (the service hung up) must not close the channel: Netty's auto-close
        // would drop the exit code still unread in the socket. Only the output side is shut.
        ch.config().setAutoClose(false);
        WirePipeline.install(ch, ChannelRole.DATA_CLIENT);
        ch.pipeline().addLast(new RelayHandler(this, Side.TARGET));
    }

    private Endpoint endpoint(Side side) {
        return side == Side.SOURCE ? src : tgt;
    }

    private Endpoint other(Side side) {
        return side == Side.SOURCE ? tgt : src;
    }

    void sideReady(Side side, Channel ch) {
        Endpoint e = endpoint(side);
        e.channel = ch;
        e.ready = true;
        for (Object m; (m = e.pending.poll()) != null; ) {
            write(e, m);
        }
        ch.flush();
        Endpoint o = other(side);
        if (o.closed) {
            closeAfterFlush(e);
        } else if (o.channel != null && ch.isWritable()) {
            o.channel.config().setAutoRead(true);
        }
    }

    void received(Side from, Object msg) {
        Endpoint to = other(from);
        if (to.closed || to.outputBroken || done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!to.ready) {
            to.pending.add(msg);
            endpoint(from).channel.config().setAutoRead(false);
            return;
        }
        write(to, msg);
        if (!to.channel.isWritable()) {
            endpoint(from).channel.config().setAutoRead(false);
        }
    }

    private void write(Endpoint to, Object msg) {
        if (to.side == Side.SOURCE && msg instanceof ExitCode) {
            exitForwarded = true;
        }
        to.channel.write(msg).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                outputFailed(to, f.cause());
            }
        });
    }

    /**
     * A write failed (EPIPE: the peer hung up). The service side may have hung up right after its
     * exit code (a missing service answers 127 at once) while the caller's input still flows: keep
     * reading the service until its EOF, so the exit code it sent is relayed, not replaced by 125.
     * A caller that hung up ends the call: the service is closed.
     */
    private void outputFailed(Endpoint to, Throwable cause) {
        if (to.outputBroken || to.closed) {
            return;
        }
        to.outputBroken = true;
        if (to.side == Side.TARGET) {
            LOG.log(Level.DEBUG, () -> this + ": service stopped reading its input: " + cause);
            // Input for it is dropped from now on: never stall the caller on it.
            Endpoint from = other(to.side);
            if (from.channel != null && from.channel.isActive()) {
                from.channel.config().setAutoRead(true);
            }
        } else {
            LOG.log(Level.WARNING, "{0}: caller data channel failed: {1}", this, String.valueOf(cause));
            to.channel.close();
        }
    }

    /** True once the service's exit code has been written to the caller. */
    boolean exitCodeRelayed() {
        return exitForwarded;
    }

    void readComplete(Side from) {
        Endpoint to = other(from);
        if (to.ready && !to.closed) {
            to.channel.flush();
        }
    }

    void writabilityChanged(Side side) {
        Endpoint e = endpoint(side);
        Endpoint o = other(side);
        if ((e.channel.isWritable() || e.outputBroken) && o.channel != null && o.channel.isActive()) {
            o.channel.config().setAutoRead(true);
        }
    }

    void sideClosed(Side side) {
        Endpoint e = endpoint(side);
        if (e.closed) {
            return;
        }
        e.closed = true;
        for (Object m; (m = e.pending.poll()) != null; ) {
            ReferenceCountUtil.release(m);
        }
        Endpoint o = other(side);
        if (side == Side.TARGET && !exitForwarded) {
            // The service side vanished without an exit code: the caller must still learn the call
            // failed (qrexec-level problem), not wait forever.
            if (o.ready && !o.closed) {
                write(o, new ExitCode(WireLimits.EXIT_PROBLEM));
            } else if (!o.closed) {
                o.pending.add(new ExitCode(WireLimits.EXIT_PROBLEM));
            }
        }
        if (o.ready && !o.closed) {
            closeAfterFlush(o);
        }
        maybeFinish();
    }

    private void closeAfterFlush(Endpoint e) {
        e.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void targetFailed(String reason) {
        if (tgt.channel != null || done) {
            return;
        }
        LOG.log(Level.WARNING, "{0}: {1}", this, reason);
        if (listener != null) {
            listener.close();
        }
        sideClosed(Side.TARGET);
    }

    private void sourceFailed(String reason) {
        LOG.log(Level.WARNING, "{0}: {1}", this, reason);
        src.closed = true;
        if (tgt.channel != null) {
            tgt.channel.close();
        } else if (listener != null) {
            listener.close();
        }
    }

    @Override
    public void terminated(AgentSession session, int port) {
        Loops.run(loop, () -> {
            legsOpen--;
            LOG.log(Level.DEBUG, () -> this + ": " + session.name() + " terminated port " + port);
            maybeFinish();
        });
    }

    private void maybeFinish() {
        if (done || legsOpen > 0) {
            return;
        }
        done = true;
        if (acceptTimeout != null) {
            acceptTimeout.cancel(false);
        }
        if (listener != null) {
            listener.close();
        }
        for (Endpoint e : new Endpoint[] {src, tgt}) {
            if (e.channel != null && e.channel.isOpen()) {
                closeAfterFlush(e);
            }
        }
        LOG.log(Level.DEBUG, () -> this + ": done");
        onDone.run();
    }

    @Override
    public String toString() {
        return "call " + request.source() + " -> " + target.name() + " " + request.serviceAndArg()
                + " [" + request.requestId().displayText() + "]";
    }
}
