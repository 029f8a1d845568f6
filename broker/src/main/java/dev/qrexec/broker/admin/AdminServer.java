package dev.qrexec.broker.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The admin socket: a Unix socket speaking the Admin API wire format, one request per connection.
 *
 * <p>Threads: the event loop reads the request (bounded to {@link AdminRequest#MAX_BYTES}) and checks
 * the peer; a small bounded worker pool calls the backend, which may block; replies are written
 * from the worker (Netty hands the write to the event loop). An {@code admin.Events} connection
 * stays open: events are written as they come and a client that stops reading is disconnected
 * once its outbound buffer passes the high water mark, so a slow reader cannot make us buffer
 * without bound.
 */
public final class AdminServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
    static final int WORKERS = 4;
    static final int WORKER_QUEUE = 64;

    private final AdminMethods methods;
    private final AdminBackend backend;
    private final AdminAccess access;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor workers;
    private final Channel serverChannel;
    private final Path path;

    private AdminServer(Path path, AdminBackend backend, AdminAccess access) throws InterruptedException {
        this.path = path;
        this.backend = backend;
        this.methods = new AdminMethods(backend);
        this.access = access;
        this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WORKER_QUEUE), r -> {
                    Thread t = new Thread(r, "admin-worker");
                    t.setDaemon(true);
                    return t;
                });
        this.workers.allowCoreThreadTimeOut(true);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        ch.pipeline().addLast(new Connection());
                    }
                });
        try {
            this.serverChannel = b.bind(new DomainSocketAddress(path.toString())).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownNow();
            throw e;
        }
    }

    /**
     * Listens on {@code path} (a stale socket file is replaced) with mode 0660, so the file system
     * already keeps out everyone but the owner and its group; SO_PEERCRED is checked on top.
     */
    public static AdminServer start(Path path, AdminBackend backend, AdminAccess access)
            throws IOException, InterruptedException {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(access, "access");
        Files.deleteIfExists(path);
        AdminServer server = new AdminServer(path, backend, access);
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            server.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "admin socket listening on " + path);
        return server;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownNow();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + path + ": " + e.getMessage());
        }
    }

    /** One client connection. Event-loop confined, except the reply written by a worker. */
    private final class Connection extends ChannelInboundHandlerAdapter {
        private final ByteArrayOutputStream request = new ByteArrayOutputStream();
        private boolean dispatched;
        private AdminException refusal;
        private AutoCloseable subscription;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            PeerCredentials peer;
            try {
                peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "admin socket: cannot read peer credentials, closing: " + e);
                ctx.close();
                return;
            }
            if (!access.allows(peer)) {
                // Answered once the request is read: closing with unread input would reset the
                // connection and the client would never see why.
                LOG.log(System.Logger.Level.WARNING, "admin socket: refused peer " + peer);
                refusal = AdminException.permission("uid " + peer.uid() + " may not use the admin socket");
                return;
            }
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (dispatched) {
                    return; // data after the request (or after a refusal) is ignored
                }
                if (request.size() + buf.readableBytes() > AdminRequest.MAX_BYTES) {
                    dispatched = true;
                    LOG.log(System.Logger.Level.WARNING, "admin socket: request over " + AdminRequest.MAX_BYTES
                            + " bytes, closing");
                    reply(ctx.channel(), AdminResponse.error(AdminException.protocol(
                            "request over " + AdminRequest.MAX_BYTES + " bytes")));
                    return;
                }
                buf.readBytes(request, buf.readableBytes());
            } catch (IOException e) {
                ctx.close();
            } finally {
                buf.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && !dispatched) {
                dispatched = true;
                dispatch(ctx);
            }
            ctx.fireUserEventTriggered(evt);
        }

        private void dispatch(ChannelHandlerContext ctx) {
            if (refusal != null) {
                reply(ctx.channel(), AdminResponse.error(refusal));
                return;
            }
            AdminRequest r;
            try {
                r = AdminRequest.parse(request.toByteArray());
            } catch (AdminException e) {
                LOG.log(System.Logger.Level.WARNING, "admin socket: malformed request: " + e.getMessage());
                reply(ctx.channel(), AdminResponse.error(e));
                return;
            }
            if (r.method().equals(AdminMethods.EVENTS)) {
                startEvents(ctx, r);
                return;
            }
            try {
                workers.execute(() -> reply(ctx.channel(), methods.handle(r)));
            } catch (RejectedExecutionException e) {
                LOG.log(System.Logger.Level.WARNING, "admin socket: " + workers.getActiveCount() + " calls running and "
                        + workers.getQueue().size() + " queued; refusing " + r);
                reply(ctx.channel(), AdminResponse.error(new AdminException("QubesException",
                        "admin socket busy: " + WORKER_QUEUE + " calls queued")));
            }
        }

        private void startEvents(ChannelHandlerContext ctx, AdminRequest r) {
            try {
                AdminMethods.checkCaller(r);
            } catch (AdminException e) {
                reply(ctx.channel(), AdminResponse.error(e));
                return;
            }
            Channel ch = ctx.channel();
            String only = r.destination().equals("dom0") ? null : r.destination();
            ch.writeAndFlush(Unpooled.wrappedBuffer(AdminResponse.event("", "connection-established", Map.of())));
            subscription = backend.subscribe(event -> {
                if (only != null && !only.equals(event.subject())) {
                    return;
                }
                if (!ch.isWritable()) {
                    LOG.log(System.Logger.Level.WARNING, "admin.Events client is not reading; disconnecting it");
                    ch.close();
                    return;
                }
                ch.writeAndFlush(Unpooled.wrappedBuffer(
                        AdminResponse.event(event.subject(), event.name(), event.attributes())));
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (subscription != null) {
                try {
                    subscription.close();
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot close event subscription: " + e);
                }
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.log(System.Logger.Level.WARNING, "admin socket connection failed: " + cause);
            ctx.close();
        }

        private void reply(Channel ch, byte[] data) {
            ch.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
