package dev.qrexec.xen.transport;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.util.Objects;

/**
 * The server side of one vchan while it waits for its client.
 *
 * @param address  where it listens
 * @param bound    completes once the socket accepts connections (or fails if it cannot listen)
 * @param accepted completes with the one accepted channel; cancel it to stop listening
 */
public record VchanListener(VchanAddress address, Future<Void> bound, Future<Channel> accepted) {

    public VchanListener {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(bound, "bound");
        Objects.requireNonNull(accepted, "accepted");
    }

    /** Stops listening if nobody has connected yet; an accepted channel is not affected. */
    public void close() {
        accepted.cancel(false);
    }
}
