package dev.qrexec.broker.agent;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.ConnectionTerminated;
import dev.qrexec.broker.wire.RequestId;
import dev.qrexec.broker.wire.Trigger;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The agent's trigger socket (channel D): qrexec-client-vm connects, sends one TRIGGER_SERVICE4
 * with request id {@code SOCKET}; the agent renames the id {@code SOCKET<n>}, forwards the trigger
 * on the control channel and keeps the client waiting. SERVICE_CONNECT writes the 8-byte
 * {@code {domain, port}} to the client; SERVICE_REFUSED closes it (the client exits 126). When a
 * connected client hangs up, the daemon is told with CONNECTION_TERMINATED.
 *
 * <p>The pending table is shared between the trigger channels and the control channel, hence a
 * concurrent map; each entry is touched by at most those two event loops.
 */
final class TriggerSocket implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(TriggerSocket.class.getName());
    /** Waiting qrexec-client-vm connections; the C agent is bounded by its fd table in the same way. */
    static final int MAX_PENDING = 256;
    static final String IDENT_PREFIX = "SOCKET";
    static final int MAX_ID = 999_999_999;

    private final Supplier<Channel> control;
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private final Channel server;
    private final Path path;

    /** One waiting or connected client. {@code domain}/{@code port} are set once connected. */
    private static final class Pending {
        final Channel client;
        volatile boolean connected;
        volatile int domain;
        volatile int port;

        Pending(Channel client) {
            this.client = client;
        }
    }

    /**
     * @param control the current control channel, or null while the daemon is not connected
     */
    TriggerSocket(EventLoopGroup group, Path path, Supplier<Channel> control) throws IOException {
        this.control = control;
        this.path = path;
        Files.deleteIfExists(path);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        WirePipeline.install(ch, ChannelRole.TRIGGER_SOCKET);
                        ch.pipeline().addLast(new ClientHandler());
                    }
                });
        var bound = b.bind(new DomainSocketAddress(path.toString())).syncUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IOException("cannot listen on trigger socket " + path, bound.cause());
        }
        this.server = bound.channel();
        // Any local process may ask for a call, as in Qubes: policy in dom0 decides.
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
    }

    int pendingCount() {
        return pending.size();
    }

    /** SERVICE_CONNECT from the daemon. Unknown or malformed idents are logged and ignored (as in C). */
    void connect(RequestId ident, int domain, int port) {
        Integer id = parse(ident);
        Pending p = id == null ? null : pending.get(id);
        if (p == null || p.connected) {
            LOG.log(System.Logger.Level.WARNING, "SERVICE_CONNECT for unknown request " + ident + ", ignored");
            return;
        }
        p.domain = domain;
        p.port = port;
        p.connected = true;
        p.client.writeAndFlush(Unpooled.buffer(8).writeIntLE(domain).writeIntLE(port));
    }

    /** SERVICE_REFUSED from the daemon: the client sees EOF and exits 126. */
    void refuse(RequestId ident) {
        Integer id = parse(ident);
        Pending p = id == null ? null : pending.get(id);
        if (p == null || p.connected) {
            LOG.log(System.Logger.Level.WARNING, "SERVICE_REFUSED for unknown request " + ident + ", ignored");
            return;
        }
        pending.remove(id);
        p.client.close();
    }

    /** The control channel went away: answers will never come, so waiting clients are refused. */
    void controlLost() {
        pending.forEach((id, p) -> {
            if (!p.connected) {
                pending.remove(id);
                p.client.close();
            }
        });
    }

    static Integer parse(RequestId ident) {
        if (!ident.isWellFormed()) {
            return null;
        }
        String text = ident.displayText();
        if (!text.startsWith(IDENT_PREFIX) || text.length() == IDENT_PREFIX.length()
                || text.length() > IDENT_PREFIX.length() + 9) {
            return null;
        }
        String digits = text.substring(IDENT_PREFIX.length());
        if (!digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return Integer.valueOf(digits);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        pending.values().forEach(p -> p.client.close());
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + path + ": " + e);
        }
    }

    /** One qrexec-client-vm connection. Event-loop confined. */
    private final class ClientHandler extends ChannelInboundHandlerAdapter {
        private Integer id;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof Trigger t) || id != null) {
                ReferenceCountUtil.release(msg);
                LOG.log(System.Logger.Level.WARNING, "trigger socket: unexpected " + msg + ", closing client");
                ctx.close();
                return;
            }
            Channel ctl = control.get();
            if (ctl == null || !ctl.isActive()) {
                LOG.log(System.Logger.Level.WARNING, "trigger for " + t.serviceName() + ": no daemon connected, refusing");
                ctx.close();
                return;
            }
            if (pending.size() >= MAX_PENDING) {
                LOG.log(System.Logger.Level.WARNING, "trigger refused: " + MAX_PENDING + " calls already pending");
                ctx.close();
                return;
            }
            int n;
            do {
                // Wrap before the id reaches 10 digits; ids still in use are skipped.
                n = nextId.getAndUpdate(i -> i >= MAX_ID ? 1 : i + 1);
            } while (pending.containsKey(n));
            id = n;
            pending.put(n, new Pending(ctx.channel()));
            Trigger forwarded = new Trigger(t.type(), t.sourceDomain(), t.targetDomain(),
                    RequestId.of(IDENT_PREFIX + n), t.serviceField());
            ctl.writeAndFlush(forwarded).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    LOG.log(System.Logger.Level.WARNING, "cannot forward trigger: " + f.cause());
                    pending.remove(id);
                    ctx.close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (id != null) {
                Pending p = pending.remove(id);
                Channel ctl = control.get();
                if (p != null && p.connected && ctl != null && ctl.isActive()) {
                    ctl.writeAndFlush(new ConnectionTerminated(p.domain, p.port));
                }
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "trigger socket client failed: " + cause);
            ctx.close();
        }
    }
}
