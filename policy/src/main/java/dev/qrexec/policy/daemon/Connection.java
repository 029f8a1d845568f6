package dev.qrexec.policy.daemon;

import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * One accepted connection while a serving thread works on it: what the {@link Watchdog} needs to
 * close it from outside once its deadline has passed.
 *
 * <p>Written once by the serving thread; read by the watchdog. Closing a channel from another
 * thread aborts a read blocked on it, which is how a silent client loses its thread.
 */
final class Connection {

    final SocketChannel channel;
    final long acceptedNanos;
    /** Set by the watchdog before it closes the channel, so the serving thread knows why its read failed. */
    volatile boolean expired;

    Connection(SocketChannel channel, long acceptedNanos) {
        this.channel = channel;
        this.acceptedNanos = acceptedNanos;
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
