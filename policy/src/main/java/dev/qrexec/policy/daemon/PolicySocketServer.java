package dev.qrexec.policy.daemon;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.system.SystemInfo;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Serves the {@code policy.sock} protocol (spec 7.1) on a Unix domain socket.
 *
 * <p>Pipeline of each connection: {@link ConnectionLimiter} (shared) → {@link ReadTimeoutHandler} →
 * {@link RequestLineDecoder} → {@link PolicyRequestValidator} → {@link PolicyReplyHandler} (shared).
 * {@code workerThreads} event loops accept (one of them) and own the connections; each connection's
 * state lives on its own loop only. Evaluation runs on the event loop (see {@link PolicyReplyHandler}).
 *
 * <p>The socket is created with mode 0660 (spec 7.1) without a window where it has other modes: it
 * is bound under a temporary name, given its mode, then renamed over {@code path}.
 *
 * <pre>{@code
 * try (PolicySocketServer server = PolicySocketServer.builder()
 *         .socket(Path.of("/run/qubes/policy.sock"))
 *         .responder(responder)
 *         .start()) { ... }
 * }</pre>
 */
public final class PolicySocketServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PolicySocketServer.class.getName());
    /** sun_path holds 108 bytes including the terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;
    private static final Set<PosixFilePermission> MODE_0660 = PosixFilePermissions.fromString("rw-rw----");

    private final Path path;
    private final DomainSocketTransport transport;
    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final ConnectionLimiter limiter;

    private PolicySocketServer(Path path, DomainSocketTransport transport, EventLoopGroup group,
                               Channel serverChannel, ConnectionLimiter limiter) {
        this.path = path;
        this.transport = transport;
        this.group = group;
        this.serverChannel = serverChannel;
        this.limiter = limiter;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a server with default settings: the best transport, one worker per core. */
    public static PolicySocketServer start(Path socket, PolicyResponder responder) throws IOException {
        return builder().socket(socket).responder(responder).start();
    }

    /**
     * Serves {@code policy} (re-read at every request, so reloads take effect at once) with the
     * system info of {@code system}; an ask in normal mode is denied (no prompt, see {@link EngineResponder}).
     */
    public static PolicySocketServer start(Path socket, PolicyService policy, Supplier<SystemInfo> system)
            throws IOException {
        return start(socket, new EngineResponder(policy, system));
    }

    /** The socket's path. */
    public Path path() {
        return path;
    }

    /** The transport in use. */
    public DomainSocketTransport transport() {
        return transport;
    }

    /** Connections open right now (for status and tests). */
    public int openConnections() {
        return limiter.openConnections();
    }

    /** Stops accepting, closes open connections, removes the socket file. Idempotent. */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                    && Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "policy.sock: could not remove " + path, e);
        }
    }

    @Override
    public String toString() {
        return "PolicySocketServer[" + path + ", " + transport + "]";
    }

    /** Builds and starts a {@link PolicySocketServer}; each setter validates its argument at once. */
    public static final class Builder {
        private Path socket;
        private PolicyResponder responder;
        private EvalQueryHandler evalHandler;
        private DomainSocketTransport transport;
        private int workerThreads = Runtime.getRuntime().availableProcessors();
        private int maxConnections = 1024;
        private Duration readTimeout = Duration.ofSeconds(10);
        private int maxLineLength = RequestLineDecoder.MAX_LINE_LENGTH;

        private Builder() {
        }

        /** Where to create the socket; its directory must exist. An existing socket there is replaced. */
        public Builder socket(Path socket) {
            this.socket = Objects.requireNonNull(socket, "socket").toAbsolutePath();
            return this;
        }

        /** Serve the policy.sock protocol (spec 7.1), answering with {@code responder}. */
        public Builder responder(PolicyResponder responder) {
            this.responder = Objects.requireNonNull(responder, "responder");
            return this;
        }

        /** Serve {@code policy.EvalSimple} or {@code policy.EvalGUI} (spec 7.2) instead of policy.sock. */
        public Builder evalService(EvalService service, Supplier<Policy> policy, Supplier<SystemInfo> system) {
            this.evalHandler = new EvalQueryHandler(service, policy, system);
            return this;
        }

        /** Forces a transport; by default {@link DomainSocketTransport#best()}. */
        public Builder transport(DomainSocketTransport transport) {
            Objects.requireNonNull(transport, "transport");
            if (!transport.isAvailable()) {
                throw new IllegalArgumentException("transport " + transport + " is not available on this system");
            }
            this.transport = transport;
            return this;
        }

        public Builder workerThreads(int workerThreads) {
            if (workerThreads < 1) {
                throw new IllegalArgumentException("workerThreads must be at least 1, was " + workerThreads);
            }
            this.workerThreads = workerThreads;
            return this;
        }

        /** Connections beyond this many open at once are closed without a reply (default 1024). */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
            }
            this.maxConnections = maxConnections;
            return this;
        }

        /** A connection that sends nothing for this long is closed without a reply (default 10 s). */
        public Builder readTimeout(Duration readTimeout) {
            Objects.requireNonNull(readTimeout, "readTimeout");
            if (readTimeout.isNegative() || readTimeout.isZero()) {
                throw new IllegalArgumentException("readTimeout must be positive, was " + readTimeout);
            }
            this.readTimeout = readTimeout;
            return this;
        }

        /** Longest request line in bytes (default {@link RequestLineDecoder#MAX_LINE_LENGTH}). */
        public Builder maxLineLength(int maxLineLength) {
            if (maxLineLength < 1) {
                throw new IllegalArgumentException("maxLineLength must be positive, was " + maxLineLength);
            }
            this.maxLineLength = maxLineLength;
            return this;
        }

        /**
         * Binds the socket and starts serving.
         *
         * @throws IOException if the socket cannot be created (a non-socket file in the way, no such
         *                     directory, no permission)
         */
        public PolicySocketServer start() throws IOException {
            if (socket == null) {
                throw new IllegalStateException("socket path not set");
            }
            if ((responder == null) == (evalHandler == null)) {
                throw new IllegalStateException(responder == null ? "responder not set (or evalService)"
                        : "both responder and evalService set; a socket serves one protocol");
            }
            refuseNonSocket(socket);
            Path temporary = socket.resolveSibling(
                    "." + socket.getFileName() + "." + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
            int pathBytes = temporary.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (pathBytes > MAX_SOCKET_PATH_BYTES) {
                throw new IOException("socket path " + socket + " is too long: binding needs " + pathBytes
                        + " bytes, the limit of sockaddr_un is " + MAX_SOCKET_PATH_BYTES);
            }
            DomainSocketTransport chosen = transport != null ? transport : DomainSocketTransport.best();
            // One group accepts and serves: a connection accepted on a loop that also serves it needs no
            // hand-off between threads, which matters at one connection per request.
            EventLoopGroup workers = new MultiThreadIoEventLoopGroup(workerThreads,
                    new DefaultThreadFactory("qrexec-policy-io", true), chosen.ioHandlerFactory());
            ConnectionLimiter limiter = new ConnectionLimiter(maxConnections);
            PolicyReplyHandler replyHandler = responder == null ? null : new PolicyReplyHandler(responder);
            EvalQueryHandler evalQueries = evalHandler;
            long timeoutMillis = readTimeout.toMillis();
            int lineLimit = maxLineLength;
            try {
                ServerBootstrap bootstrap = new ServerBootstrap()
                        .group(workers)
                        .channel(chosen.serverChannelClass())
                        .option(ChannelOption.SO_BACKLOG, 1024);
                if (chosen.supportsHalfClosure()) {
                    // A client may end its request with EOF instead of an empty line and still read the reply.
                    bootstrap.childOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                }
                Channel channel = bootstrap
                        .childHandler(new ChannelInitializer<>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ChannelPipeline p = ch.pipeline();
                                p.addLast("limit", limiter);
                                p.addLast("timeout", new ReadTimeoutHandler(timeoutMillis, TimeUnit.MILLISECONDS));
                                if (evalQueries != null) {
                                    p.addLast("query", new EvalQueryDecoder());
                                    p.addLast("eval", evalQueries);
                                } else {
                                    p.addLast("lines", new RequestLineDecoder(lineLimit));
                                    p.addLast("request", new PolicyRequestValidator());
                                    p.addLast("reply", replyHandler);
                                }
                            }
                        })
                        .bind(chosen.address(temporary))
                        .sync()
                        .channel();
                try {
                    Files.setPosixFilePermissions(temporary, MODE_0660);
                    Files.move(temporary, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException | RuntimeException e) {
                    channel.close().syncUninterruptibly();
                    Files.deleteIfExists(temporary);
                    throw e;
                }
                LOG.log(Level.INFO, "{0}: serving {1} ({2}, {3} worker threads)",
                        evalQueries != null ? evalQueries.serviceName() : "policy.sock", socket, chosen, workerThreads);
                return new PolicySocketServer(socket, chosen, workers, channel, limiter);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw new IOException("interrupted while binding " + socket, e);
            } catch (IOException | RuntimeException e) {
                workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw e instanceof IOException io ? io
                        : new IOException("cannot serve " + socket + ": " + e.getMessage(), e);
            } catch (Exception e) {
                // Netty's sync() rethrows checked bind failures (e.g. Errors.NativeIoException) unchecked-ly.
                workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
                throw new IOException("cannot serve " + socket + ": " + e.getMessage(), e);
            }
        }

        private static void refuseNonSocket(Path socket) throws IOException {
            if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            BasicFileAttributes attributes = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isOther()) {
                throw new AccessDeniedException(socket.toString(), null,
                        "exists and is not a socket; refusing to replace it");
            }
        }
    }
}
