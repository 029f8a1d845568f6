package dev.qrexec.broker.agent.stream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets blocking producer threads wait until a channel can take more output: the channel's
 * write buffer is bounded by its {@code WriteBufferWaterMark}, and producers stop above the high
 * mark instead of queueing. Sits in the pipeline to hear writability changes.
 */
public final class WritabilityGate extends ChannelInboundHandlerAdapter {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Channel channel;

    public WritabilityGate(Channel channel) {
        this.channel = channel;
    }

    /**
     * Blocks until the channel is writable.
     *
     * @return false if the channel closed meanwhile
     */
    public boolean awaitWritable() throws InterruptedException {
        lock.lock();
        try {
            while (channel.isActive() && !channel.isWritable()) {
                // The timeout only guards against a missed signal; the signal is the normal wake-up.
                changed.await(100, TimeUnit.MILLISECONDS);
            }
            return channel.isActive();
        } finally {
            lock.unlock();
        }
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        signal();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        signal();
        ctx.fireChannelInactive();
    }

    /** Name of this handler in a pipeline. */
    public static final String NAME = "writability-gate";

    /** Data channels: up to 256 KiB queued for the peer before producers wait. */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    /**
     * Sets the data-channel water mark on {@code channel}, adds a gate at the end of its pipeline and
     * returns it.
     */
    public static WritabilityGate install(Channel channel) {
        channel.config().setWriteBufferWaterMark(WATER_MARK);
        WritabilityGate gate = new WritabilityGate(channel);
        channel.pipeline().addLast(NAME, gate);
        return gate;
    }
}
