package dev.qrexec.broker.agent.stream;

import dev.qrexec.broker.wire.DataFrame;
import dev.qrexec.broker.wire.MessageType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Copies a blocking {@link InputStream} into data frames of one stream type on a channel, then
 * sends that stream's EOF (an empty frame). Runs on a thread of its own; before each read it waits
 * for the channel to be writable, so at most one chunk beyond the high water mark is ever queued:
 * a slow peer slows the producer down instead of filling memory.
 */
public final class OutboundPump {

    private static final System.Logger LOG = System.getLogger(OutboundPump.class.getName());

    private final Channel channel;
    private final WritabilityGate gate;
    private final MessageType stream;
    private final InputStream source;
    private final int chunk;
    private final CompletableFuture<Boolean> done = new CompletableFuture<>();
    private volatile boolean stopped;

    /**
     * @param chunk largest frame body to send (the negotiated chunk limit)
     */
    public OutboundPump(Channel channel, WritabilityGate gate, MessageType stream, InputStream source, int chunk) {
        if (!stream.isStream()) {
            throw new IllegalArgumentException("not a data stream: " + stream);
        }
        if (chunk <= 0) {
            throw new IllegalArgumentException("chunk must be positive, got " + chunk);
        }
        this.channel = channel;
        this.gate = gate;
        this.stream = stream;
        this.source = source;
        this.chunk = chunk;
    }

    /** Starts copying on a thread from {@code executor}. */
    public OutboundPump start(Executor executor) {
        executor.execute(this::run);
        return this;
    }

    /**
     * Completes when the pump ends: {@code true} once EOF was sent, {@code false} if the channel
     * closed or the pump was stopped first.
     */
    public CompletableFuture<Boolean> done() {
        return done;
    }

    /** Stops after the current read; no EOF is sent. The pump's thread may stay blocked in a read. */
    public void stop() {
        stopped = true;
        done.complete(false);
    }

    private void run() {
        try {
            while (!stopped) {
                if (!gate.awaitWritable()) {
                    done.complete(false);
                    return;
                }
                ByteBuf buf = channel.alloc().buffer(chunk);
                int n;
                try {
                    n = buf.writeBytes(source, chunk);
                } catch (IOException e) {
                    // buf is released below, with the EOF
                    LOG.log(System.Logger.Level.DEBUG, "read of " + stream + " source failed, treating as EOF: " + e);
                    n = -1;
                }
                if (n < 0) {
                    buf.release();
                    break;
                }
                if (n == 0) {
                    buf.release();
                    continue;
                }
                if (stopped) {
                    buf.release();
                    break;
                }
                channel.writeAndFlush(new DataFrame(stream, buf));
            }
            if (!stopped) {
                channel.writeAndFlush(DataFrame.eof(stream));
                done.complete(true);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.complete(false);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "pump for " + stream + " failed", e);
            done.complete(false);
        }
    }
}
