package dev.qrexec.policy.daemon;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * One accepted connection while a serving thread works on it: what the {@link Watchdog} needs to
 * close it from outside once its deadline has passed.
 *
 * <p>Written by the serving thread; read by the watchdog. Closing a channel from another
 * thread aborts a read blocked on it, which is how a silent client loses its thread.
 */
final class Connection {

    final SocketChannel channel;
    final long acceptedNanos;
    /** Set by the watchdog before it closes the channel, so the serving thread knows why its read failed. */
    volatile boolean expired;
    /**
     * Set once the request has been read and its reply is awaited from an asynchronous responder
     * (a user at a prompt): the read deadline no longer applies, the reply timeout does.
     */
    volatile boolean replyPending;

    Connection(SocketChannel channel, long acceptedNanos) {
        this.channel = channel;
        this.acceptedNanos = acceptedNanos;
    }

    /** The request is complete; its reply is awaited (see {@link #replyPending}). */
    void awaitingReply() {
        replyPending = true;
    }

    /** Closes the channel because its deadline passed; false if it was closed already. */
    boolean expire() {
        if (!channel.isOpen()) {
            return false;
        }
        expired = true;
        close();
        return true;
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing to do: the descriptor is released either way.
        }
    }
}
