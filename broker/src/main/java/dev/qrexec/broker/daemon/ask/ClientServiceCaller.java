package dev.qrexec.broker.daemon.ask;

import dev.qrexec.broker.client.QrexecClient;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * dom0 → qube service calls made exactly as qrexec-client makes them, through the broker's own
 * local socket {@code qrexec.<qube>}: the call is an ordinary qrexec call the broker serves.
 *
 * <p>Threads: qrexec-client blocks until the remote service exits, so each call holds one thread
 * of a small bounded pool ({@link #THREADS}, queue {@link #QUEUE}); more calls fail at once. When
 * the returned future is completed by someone else (the ask timed out), the call's thread is
 * interrupted, which ends the qrexec-client call.
 */
public final class ClientServiceCaller implements QubeServiceCaller, AutoCloseable {

    private static final Logger LOG = System.getLogger(ClientServiceCaller.class.getName());
    static final int THREADS = 4;
    static final int QUEUE = 32;
    /** Longest answer read from a GUI qube. */
    static final int MAX_OUTPUT = 4096;

    private final Function<String, Optional<Path>> channelDirOf;
    private final Supplier<Optional<Path>> localSocketDir;
    private final ThreadPoolExecutor pool;

    /**
     * @param channelDirOf   the channel directory of a declared qube (where qrexec-client listens)
     * @param localSocketDir the directory of the broker's local sockets, once served
     */
    public ClientServiceCaller(Function<String, Optional<Path>> channelDirOf, Supplier<Optional<Path>> localSocketDir) {
        this.channelDirOf = Objects.requireNonNull(channelDirOf, "channelDirOf");
        this.localSocketDir = Objects.requireNonNull(localSocketDir, "localSocketDir");
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "qrexec-gui-call-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    @Override
    public CompletableFuture<String> call(String qube, String service, byte[] stdin) {
        Optional<Path> channelDir = channelDirOf.apply(qube);
        Optional<Path> sockets = localSocketDir.get();
        if (channelDir.isEmpty() || sockets.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException(qube + " is not a running qube the broker"
                    + " serves" + (sockets.isEmpty() ? " (no local sockets)" : "")));
        }
        CompletableFuture<String> result = new CompletableFuture<>();
        Future<?> task;
        try {
            task = pool.submit(() -> run(qube, service, stdin, channelDir.get(), sockets.get(), result));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("too many calls to GUI qubes in flight ("
                    + (THREADS + QUEUE) + ")"));
        }
        result.whenComplete((v, error) -> {
            if (error != null) {
                task.cancel(true);
            }
        });
        return result;
    }

    private static void run(String qube, String service, byte[] stdin, Path channelDir, Path sockets,
                            CompletableFuture<String> result) {
        Capped out = new Capped();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClient.execute(Map.of("VCHAN_SOCKET_DIR", channelDir.toString()),
                new ByteArrayInputStream(stdin), out, new PrintStream(err, true, StandardCharsets.UTF_8),
                "-d", qube, "--socket-dir=" + sockets, "DEFAULT:QUBESRPC " + service + "+ dom0");
        if (result.isDone()) {
            return;
        }
        if (code != 0) {
            String why = err.toString(StandardCharsets.UTF_8).strip();
            LOG.log(Level.DEBUG, "{0} in {1} exited {2}: {3}", service, qube, code, why);
            result.completeExceptionally(new IllegalStateException(service + " in " + qube + " exited " + code
                    + (why.isEmpty() ? "" : ": " + why)));
        } else if (out.overflow) {
            result.completeExceptionally(new IllegalStateException(service + " in " + qube + " answered more than "
                    + MAX_OUTPUT + " bytes"));
        } else {
            result.complete(out.bytes.toString(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    /** Keeps the first {@link #MAX_OUTPUT} bytes and notes whether there were more. */
    private static final class Capped extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean overflow;

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            int room = MAX_OUTPUT - bytes.size();
            if (len > room) {
                overflow = true;
            }
            bytes.write(b, off, Math.max(0, Math.min(room, len)));
        }
    }
}
