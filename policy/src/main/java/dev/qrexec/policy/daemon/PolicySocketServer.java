package dev.qrexec.policy.daemon;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
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
 * Serves the {@code policy.sock} protocol (spec 7.1), or {@code policy.EvalSimple} /
 * {@code policy.EvalGUI} (spec 7.2), on a Unix domain socket: one request per connection.
 *
 * <p>Connections are accepted and served by {@link ServingThreads} with blocking calls, watched by
 * a {@link Watchdog} (deadline per connection, more threads while a slow client holds one). See
 * docs/architecture/policy-tools.md for why this beats an event loop at one request per connection.
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
    private static final int BACKLOG = 1024;
    private static final Set<PosixFilePermission> MODE_0660 = PosixFilePermissions.fromString("rw-rw----");

    private final Path path;
    private final ServingThreads threads;
    private boolean closed;

    private PolicySocketServer(Path path, ServingThreads threads) {
        this.path = path;
        this.threads = threads;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a server with default settings. */
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

    /** Connections being served right now (for status and tests). */
    public int openConnections() {
        return threads.openConnections();
    }

    /** Serving threads right now: the core ones, plus any added while slow clients hold threads. */
    public int servingThreads() {
        return threads.threads();
    }

    /**
     * Threads added since the start because every thread was held by a connection for longer than
     * a few milliseconds (slow or silent clients, or a starved machine); each retires once another
     * thread accepts again.
     */
    public int threadsAdded() {
        return threads.threadsAdded();
    }

    /** The watchdog thread's state (for tests). */
    Thread.State watchdogState() {
        return threads.watchdogState();
    }

    /** Stops accepting, closes open connections, removes the socket file. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        threads.close(2, TimeUnit.SECONDS);
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
        return "PolicySocketServer[" + path + "]";
    }

    /** Builds and starts a {@link PolicySocketServer}; each setter validates its argument at once. */
    public static final class Builder {
        private Path socket;
        private PolicyResponder responder;
        private AsyncPolicyResponder asyncResponder;
        private EvalQueryProtocol evalProtocol;
        private int workerThreads = 1;
        private int maxConnections = 256;
        private Duration readTimeout = Duration.ofSeconds(10);
        private int maxLineLength = PolicyRequestParser.MAX_LINE_LENGTH;
        private Duration replyTimeout = Duration.ofMinutes(2);

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

        /**
         * Serve the policy.sock protocol with a responder whose reply may come later (an ask
         * answered by a user): the serving thread waits for it, at most {@link #replyTimeout}, and
         * the read deadline stops counting once the request is complete. Other connections are
         * served meanwhile by added threads (at most {@link #maxConnections} in all).
         */
        public Builder asyncResponder(AsyncPolicyResponder responder) {
            this.asyncResponder = Objects.requireNonNull(responder, "asyncResponder");
            return this;
        }

        /**
         * Longest wait for an {@link #asyncResponder}'s reply (default 2 minutes, longer than an
         * ask's own timeout); then the answer is {@code result=deny}.
         */
        public Builder replyTimeout(Duration replyTimeout) {
            Objects.requireNonNull(replyTimeout, "replyTimeout");
            if (replyTimeout.isNegative() || replyTimeout.isZero()) {
                throw new IllegalArgumentException("replyTimeout must be positive, was " + replyTimeout);
            }
            this.replyTimeout = replyTimeout;
            return this;
        }

        /** Serve {@code policy.EvalSimple} or {@code policy.EvalGUI} (spec 7.2) instead of policy.sock. */
        public Builder evalService(EvalService service, Supplier<Policy> policy, Supplier<SystemInfo> system) {
            this.evalProtocol = new EvalQueryProtocol(service, policy, system);
            return this;
        }

        /**
         * Threads that wait for connections at all times (default 1). One thread that accepts and
         * answers in turn is the cheapest for requests that take microseconds: several must pass the
         * listening socket from one to the next, a thread wake-up per connection. More are added
         * (up to {@link #maxConnections}) only while slow clients hold these.
         */
        public Builder workerThreads(int workerThreads) {
            if (workerThreads < 1) {
                throw new IllegalArgumentException("workerThreads must be at least 1, was " + workerThreads);
            }
            this.workerThreads = workerThreads;
            return this;
        }

        /**
         * Connections served at once, each by a thread of its own (default 256); one beyond this is
         * closed at once without a reply (qrexec-daemon then falls back, as for any empty reply).
         */
        public Builder maxConnections(int maxConnections) {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
            }
            this.maxConnections = maxConnections;
            return this;
        }

        /**
         * A connection still open this long after it was accepted (a client that sent nothing, or not
         * a whole request) is closed without a reply, at most 5 ms later (default 10 s).
         */
        public Builder readTimeout(Duration readTimeout) {
            Objects.requireNonNull(readTimeout, "readTimeout");
            if (readTimeout.isNegative() || readTimeout.isZero()) {
                throw new IllegalArgumentException("readTimeout must be positive, was " + readTimeout);
            }
            this.readTimeout = readTimeout;
            return this;
        }

        /** Longest policy.sock request line in bytes (default {@link PolicyRequestParser#MAX_LINE_LENGTH}). */
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
            int protocols = (responder != null ? 1 : 0) + (asyncResponder != null ? 1 : 0) + (evalProtocol != null ? 1 : 0);
            if (protocols != 1) {
                throw new IllegalStateException(protocols == 0 ? "responder not set (or asyncResponder, or evalService)"
                        : "more than one of responder, asyncResponder and evalService set; a socket serves one");
            }
            if (workerThreads > maxConnections) {
                throw new IllegalStateException("workerThreads (" + workerThreads + ") exceeds maxConnections ("
                        + maxConnections + "): threads beyond the limit could only refuse connections");
            }
            refuseNonSocket(socket);
            Path temporary = socket.resolveSibling(
                    "." + socket.getFileName() + "." + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
            int pathBytes = temporary.toString().getBytes(StandardCharsets.UTF_8).length;
            if (pathBytes > MAX_SOCKET_PATH_BYTES) {
                throw new IOException("socket path " + socket + " is too long: binding needs " + pathBytes
                        + " bytes, the limit of sockaddr_un is " + MAX_SOCKET_PATH_BYTES);
            }
            SocketProtocol protocol = evalProtocol != null ? evalProtocol
                    : asyncResponder != null ? new PolicyRequestProtocol(asyncResponder, replyTimeout.toNanos(), maxLineLength)
                    : new PolicyRequestProtocol(responder, maxLineLength);
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                listener.bind(UnixDomainSocketAddress.of(temporary), BACKLOG);
                try {
                    Files.setPosixFilePermissions(temporary, MODE_0660);
                    Files.move(temporary, socket, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException | RuntimeException e) {
                    Files.deleteIfExists(temporary);
                    throw e;
                }
            } catch (IOException | RuntimeException e) {
                listener.close();
                throw e;
            }
            ServingThreads threads = new ServingThreads(listener, protocol, workerThreads, maxConnections,
                    readTimeout.toNanos());
            threads.start();
            LOG.log(Level.INFO, "{0}: serving {1} ({2} thread(s) ready, at most {3} connections at once)",
                    protocol.name(), socket, workerThreads, maxConnections);
            return new PolicySocketServer(socket, threads);
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
