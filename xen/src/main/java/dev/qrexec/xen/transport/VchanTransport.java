package dev.qrexec.xen.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.Errors;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Opens vchans as Unix stream sockets, in both roles, the way Qubes' libvchan-socket does, on Netty.
 *
 * <p>Server role ({@link #listen}): bind the socket, accept exactly one connection, stop listening
 * (the socket file goes away, so a late second client sees "no such file" instead of hanging in a
 * backlog). A connection that slips in before the listener closes is closed at once and logged.
 * Client role ({@link #connect}): connect, and while nobody listens (no socket file, or connection
 * refused) try again with a backoff from 1 ms doubling up to 100 ms; unlike the C library, give up
 * after the timeout with {@link VchanConnectException.Timeout}. Once open, the channel carries
 * exactly the bytes vchan would carry: no handshake, no framing of its own.
 *
 * <p>Threads: this transport owns its {@link EventLoopGroup}; every channel, every retry and every
 * returned future runs on one of its event loops. Native epoll is used when Netty can load it,
 * otherwise NIO ({@link #kind()} and {@link #description()} say which and why).
 */
public final class VchanTransport implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(VchanTransport.class.getName());
    private static final int ENOENT = 2;
    private static final int ECONNREFUSED = 111;
    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** The Netty transport underneath. */
    public enum Kind { EPOLL, NIO }

    private final Kind kind;
    private final String description;
    private final EventLoopGroup group;
    private final LongAdder failedConnectAttempts = new LongAdder();

    private VchanTransport(Kind kind, String description, int threads) {
        this.kind = kind;
        this.description = description;
        IoHandlerFactory io = kind == Kind.EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("qrexec-vchan", true), io);
    }

    /** Native epoll if available, else NIO; one event-loop thread. */
    public static VchanTransport create() {
        return create(1);
    }

    /** Native epoll if available, else NIO, on {@code threads} event-loop threads. */
    public static VchanTransport create(int threads) {
        requirePositive(threads);
        if (Epoll.isAvailable()) {
            return new VchanTransport(Kind.EPOLL, "epoll (native)", threads);
        }
        String why = "nio (native epoll unavailable: " + Epoll.unavailabilityCause() + ")";
        LOG.log(Level.INFO, "vchan transport: {0}", why);
        return new VchanTransport(Kind.NIO, why, threads);
    }

    /** Exactly {@code kind}; fails if it is epoll and epoll cannot be loaded here. */
    public static VchanTransport create(Kind kind, int threads) {
        Objects.requireNonNull(kind, "kind");
        requirePositive(threads);
        if (kind == Kind.EPOLL && !Epoll.isAvailable()) {
            throw new IllegalStateException("native epoll transport unavailable: " + Epoll.unavailabilityCause(),
                    Epoll.unavailabilityCause());
        }
        return new VchanTransport(kind, kind == Kind.EPOLL ? "epoll (native)" : "nio (chosen)", threads);
    }

    public Kind kind() {
        return kind;
    }

    /** Which transport runs, and why (e.g. why epoll could not be used). */
    public String description() {
        return description;
    }

    /**
     * The event loops this transport runs on, for a caller that wants its other channels (an
     * admin socket, timers) on the same threads. Owned by this transport: do not shut it down.
     */
    public EventLoopGroup eventLoopGroup() {
        return group;
    }

    /** Connect attempts that found nobody listening, since this transport was made. */
    public long failedConnectAttempts() {
        return failedConnectAttempts.sum();
    }

    /** {@link #listen(VchanAddress, ChannelHandler, Duration)} without a timeout: waits until cancelled. */
    public Future<Channel> listen(VchanAddress address, ChannelHandler initializer) {
        return listen(address, initializer, null);
    }

    /**
     * Listens on {@code address} for its one client; {@link #openListener} with only the accepted
     * future, for a caller that need not know when the socket is bound.
     */
    public Future<Channel> listen(VchanAddress address, ChannelHandler initializer, Duration acceptTimeout) {
        return openListener(address, initializer, acceptTimeout).accepted();
    }

    /**
     * Listens on {@code address} for its one client. {@link VchanListener#bound()} completes once
     * the socket accepts connections (send the peer its EXEC_CMDLINE after that, not before: wire
     * spec 10.4). {@link VchanListener#accepted()} completes with the accepted channel (with
     * {@code initializer} in its pipeline), and the listener is closed. Cancel {@code accepted} to
     * stop listening; with a non-null {@code acceptTimeout} it fails with
     * {@link VchanConnectException.Timeout} if nobody connects in time. A stale socket file left
     * at the address (an earlier run) is replaced.
     */
    public VchanListener openListener(VchanAddress address, ChannelHandler initializer, Duration acceptTimeout) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(initializer, "initializer");
        EventLoop loop = group.next();
        Promise<Void> bound = loop.newPromise();
        Promise<Channel> accepted = loop.newPromise();
        try {
            if (Files.isDirectory(address.path(), LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("a directory is in the way");
            }
            Files.deleteIfExists(address.path());
        } catch (IOException e) {
            VchanConnectException error = new VchanConnectException(address,
                    "cannot listen on " + address.path() + ": " + e.getMessage(), e);
            bound.setFailure(error);
            accepted.setFailure(error);
            return new VchanListener(address, bound, accepted);
        }
        AtomicBoolean taken = new AtomicBoolean();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loop, loop)
                .channel(serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 1)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel child) {
                        child.parent().close(); // one client per vchan: stop listening
                        if (!taken.compareAndSet(false, true)) {
                            LOG.log(Level.WARNING, "vchan {0}: refused a second connection (a vchan has one client)",
                                    address);
                            child.close();
                            return;
                        }
                        child.pipeline().addLast(initializer);
                        if (!accepted.trySuccess(child)) {
                            child.close(); // the caller gave up (cancelled or timed out)
                        }
                    }
                });
        bootstrap.bind(socketAddress(address)).addListener((ChannelFuture bind) -> {
            if (!bind.isSuccess()) {
                VchanConnectException error = new VchanConnectException(address,
                        "cannot listen on " + address.path() + ": " + bind.cause().getMessage(), bind.cause());
                accepted.tryFailure(error); // first, so that whoever sees bound fail sees accepted done
                bound.tryFailure(error);
                return;
            }
            accepted.addListener(done -> bind.channel().close());
            bound.trySuccess(null);
            if (acceptTimeout != null) {
                loop.schedule(() -> accepted.tryFailure(new VchanConnectException.Timeout(address,
                        "nobody connected to " + address.path() + " within " + acceptTimeout, null)),
                        acceptTimeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        });
        return new VchanListener(address, bound, accepted);
    }

    /**
     * Connects to {@code address}, trying again while nobody listens there, for at most
     * {@code timeout}. The future completes with the connected channel ({@code initializer} in its
     * pipeline), or fails with {@link VchanConnectException.Timeout} (nobody listened in time) or
     * {@link VchanConnectException} (the socket cannot be used: permissions, not a socket, ...).
     * Cancel the future to stop trying.
     */
    public Future<Channel> connect(VchanAddress address, ChannelHandler initializer, Duration timeout) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(initializer, "initializer");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
        }
        EventLoop loop = group.next();
        Promise<Channel> connected = loop.newPromise();
        new ConnectAttempts(address, initializer, timeout, loop, connected).attempt();
        return connected;
    }

    /** Closes every channel and stops the event loops (waits at most 5 s). */
    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "VchanTransport[" + description + "]";
    }

    /** The retry loop of one connect; runs on {@code loop}. */
    private final class ConnectAttempts {
        private final VchanAddress address;
        private final ChannelHandler initializer;
        private final Duration timeout;
        private final EventLoop loop;
        private final Promise<Channel> result;
        private final long deadline;
        private long backoff = FIRST_BACKOFF_NANOS;
        private int attempts;

        ConnectAttempts(VchanAddress address, ChannelHandler initializer, Duration timeout, EventLoop loop,
                        Promise<Channel> result) {
            this.address = address;
            this.initializer = initializer;
            this.timeout = timeout;
            this.loop = loop;
            this.result = result;
            this.deadline = System.nanoTime() + timeout.toNanos();
        }

        void attempt() {
            if (result.isDone()) {
                return; // cancelled
            }
            attempts++;
            new Bootstrap().group(loop).channel(channelClass()).handler(initializer)
                    .connect(socketAddress(address))
                    .addListener((ChannelFuture f) -> onResult(f));
        }

        private void onResult(ChannelFuture f) {
            if (f.isSuccess()) {
                if (!result.trySuccess(f.channel())) {
                    f.channel().close(); // cancelled meanwhile
                }
                return;
            }
            Throwable cause = f.cause();
            if (!nobodyListens(cause)) {
                result.tryFailure(new VchanConnectException(address,
                        "cannot connect to " + address.path() + ": " + cause.getMessage(), cause));
                return;
            }
            failedConnectAttempts.increment();
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                result.tryFailure(new VchanConnectException.Timeout(address, "nobody listens on " + address.path()
                        + " after " + timeout + " (" + attempts + " attempts; last: " + cause.getMessage() + ")",
                        cause));
                return;
            }
            long delay = Math.min(backoff, remaining);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_NANOS);
            loop.schedule(this::attempt, delay, TimeUnit.NANOSECONDS);
        }

        /**
         * ENOENT or ECONNREFUSED: the peer is not (yet) listening; anything else (ENOTDIR, EACCES,
         * a path the JDK finds too long, ...) will not go away by waiting. Netty's native connect
         * error hides its errno and the JDK reports ENOENT as a plain SocketException, so the
         * message is read too; if it is localised, the file system decides.
         */
        private boolean nobodyListens(Throwable cause) {
            if (cause instanceof Errors.NativeIoException nativeError) {
                int errno = Math.abs(nativeError.expectedErr());
                return errno == ENOENT || errno == ECONNREFUSED;
            }
            String message = String.valueOf(cause.getMessage());
            if (message.contains("No such file or directory") || message.contains("Connection refused")) {
                return true;
            }
            if (cause instanceof ConnectException && !cause.getClass().getName().startsWith("io.netty.")) {
                return true; // the JDK throws ConnectException for ECONNREFUSED only
            }
            Path dir = address.dir();
            return cause instanceof IOException && !message.contains("too long")
                    && !Files.exists(address.path(), LinkOption.NOFOLLOW_LINKS)
                    && (!Files.exists(dir) || Files.isDirectory(dir));
        }
    }

    private SocketAddress socketAddress(VchanAddress address) {
        return kind == Kind.EPOLL
                ? new DomainSocketAddress(address.path().toString())
                : UnixDomainSocketAddress.of(address.path());
    }

    private Class<? extends Channel> channelClass() {
        return kind == Kind.EPOLL ? EpollDomainSocketChannel.class : NioDomainSocketChannel.class;
    }

    private Class<? extends ServerChannel> serverChannelClass() {
        return kind == Kind.EPOLL ? EpollServerDomainSocketChannel.class : NioServerDomainSocketChannel.class;
    }

    private static void requirePositive(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, was " + threads);
        }
    }
}
