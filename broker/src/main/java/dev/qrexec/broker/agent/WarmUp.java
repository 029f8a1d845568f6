package dev.qrexec.broker.agent;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.ExitCode;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.MessageType;
import dev.qrexec.broker.wire.WirePipeline;
import dev.qrexec.xen.transport.VchanAddress;
import dev.qrexec.xen.transport.VchanListener;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Calls the agent makes to itself while it starts, before it reports the system running: each one
 * goes through the path a real call takes from the data connection on (vchan connect, HELLO, the
 * command line and service look-ups of {@link ServiceLauncher}, a Java service with its pipes, the
 * stream pumps, the exit code), against a listener of its own that plays the daemon's side.
 *
 * <p>Why: a preloaded disposable serves exactly one call, right after it is thawed. Without this,
 * that call is the second one its JVM ever runs (the readiness call is the first): interpreted code,
 * lazily resolved call sites, worker threads not yet there. Measured with
 * {@code bench/e2e/AgentFirstCall}: see docs/benchmarks/dispvm-latency.md.
 *
 * <p>The calls use a private temporary directory, so they cannot collide with the daemon's ports,
 * and run {@link #ECHO} whatever the service path holds: no file is ever started. Threads: called
 * once, on the thread that starts the agent (it blocks); the calls run on the agent's event loop
 * and workers.
 */
final class WarmUp {

    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());
    /** The command line of a warm-up call (only parsed and looked up: {@link #ECHO} runs). */
    static final String COMMAND = "root:QUBESRPC qrexec.WarmUp+ dom0";
    /** What a warm-up call sends and expects back. */
    static final byte[] PAYLOAD = "warm-up\n".getBytes(StandardCharsets.US_ASCII);
    /** The data port of the first call; each call has its own. */
    static final int FIRST_PORT = 513;
    /** Copies stdin to stdout. */
    static final JavaService ECHO = call -> {
        try (InputStream in = call.stdin(); OutputStream out = call.stdout()) {
            in.transferTo(out);
        }
        return 0;
    };

    /** How the warm-up went. */
    record Result(int rounds, int completed, Duration took, String failure) {
        @Override
        public String toString() {
            return "warm-up: " + completed + "/" + rounds + " calls in " + took.toMillis() + " ms"
                    + (failure == null ? "" : "; stopped: " + failure);
        }
    }

    private final Agent agent;

    WarmUp(Agent agent) {
        this.agent = agent;
    }

    /** Makes up to {@code rounds} calls, one at a time, all within {@code timeout}; never throws. */
    Result run(int rounds, Duration timeout) {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        Path dir = null;
        int done = 0;
        String failure = null;
        try {
            dir = Files.createTempDirectory("qrexec-warm-up");
            for (; done < rounds; done++) {
                once(dir, FIRST_PORT + done, deadline);
            }
        } catch (IOException | ExecutionException | TimeoutException | RuntimeException e) {
            failure = e instanceof ExecutionException && e.getCause() != null ? e.getCause().toString() : e.toString();
            LOG.log(System.Logger.Level.WARNING, "warm-up call " + (done + 1) + " failed, starting without the rest: "
                    + failure);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = "interrupted";
        } finally {
            deleteQuietly(dir);
        }
        return new Result(rounds, done, Duration.ofNanos(System.nanoTime() - t0), failure);
    }

    private void once(Path dir, int port, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        int domain = agent.config().domain();
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        VchanListener listener = agent.transport().openListener(VchanAddress.listening(dir, 0, domain, port),
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        WirePipeline.install(ch, ChannelRole.DATA_CLIENT);
                        ch.pipeline().addLast(new Caller(echoed));
                    }
                }, remaining(deadline));
        try {
            listener.bound().get(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS);
            CompletableFuture<Void> ended = new CompletableFuture<>();
            CommandLine cmd = CommandLine.parse(COMMAND);
            agent.startOwnCall(VchanAddress.connecting(dir, domain, 0, port), "warm-up",
                    () -> agent.launcher().launchBuiltin(cmd, ECHO), () -> ended.complete(null));
            byte[] out = echoed.get(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS);
            if (!java.util.Arrays.equals(out, PAYLOAD)) {
                throw new IllegalStateException("the echo came back as " + out.length + " other bytes");
            }
            // The agent's side is closed too before the next call (its threads are free again).
            ended.get(remaining(deadline).toNanos(), TimeUnit.NANOSECONDS);
        } finally {
            listener.accepted().cancel(false);
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot remove " + dir + ": " + e);
        }
    }

    /**
     * The daemon's side of a warm-up call: sends the payload and EOF once the HELLOs are exchanged,
     * collects stdout, completes with it on a zero exit code.
     */
    static final class Caller extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<byte[]> result;
        private final java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();

        Caller(CompletableFuture<byte[]> result) {
            this.result = result;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof HandshakeCompleted) {
                ctx.write(new DataFrame(MessageType.DATA_STDIN, Unpooled.wrappedBuffer(PAYLOAD)));
                ctx.writeAndFlush(DataFrame.eof(MessageType.DATA_STDIN));
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DataFrame f && f.type() == MessageType.DATA_STDOUT) {
                    f.content().readBytes(stdout, f.content().readableBytes());
                } else if (msg instanceof ExitCode exit) {
                    if (exit.status() == 0) {
                        result.complete(stdout.toByteArray());
                    } else {
                        result.completeExceptionally(new IllegalStateException("exit code " + exit.status()));
                    }
                    ctx.close();
                }
            } catch (IOException e) {
                result.completeExceptionally(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new IllegalStateException("data channel closed before the exit code"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }
}
