package dev.qrexec.broker.agent.stream;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * Auto-read of one channel shared by several {@link InboundPump}s (stdout and stderr arrive on the
 * same channel): reading is on only while no pump asks for a pause. Event-loop confined.
 */
public final class ReadThrottle {

    private static final AttributeKey<ReadThrottle> KEY = AttributeKey.valueOf(ReadThrottle.class, "throttle");

    private final Channel channel;
    private int pausers;

    private ReadThrottle(Channel channel) {
        this.channel = channel;
    }

    /** The channel's throttle, created on first use. */
    public static ReadThrottle of(Channel channel) {
        ReadThrottle t = channel.attr(KEY).get();
        if (t == null) {
            t = new ReadThrottle(channel);
            ReadThrottle prev = channel.attr(KEY).setIfAbsent(t);
            if (prev != null) {
                t = prev;
            }
        }
        return t;
    }

    void pause() {
        assert channel.eventLoop().inEventLoop();
        if (pausers++ == 0) {
            channel.config().setAutoRead(false);
        }
    }

    void resume() {
        assert channel.eventLoop().inEventLoop();
        if (pausers > 0 && --pausers == 0) {
            channel.config().setAutoRead(true);
            channel.read();
        }
    }
}
