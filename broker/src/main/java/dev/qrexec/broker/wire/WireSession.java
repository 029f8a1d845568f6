package dev.qrexec.broker.wire;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * The wire state of one channel: its role, where the handshake is, the negotiated version.
 * Owned by the channel's event loop; read it from handlers of that channel only.
 */
public final class WireSession {

    /** Where a channel is in its life. */
    public enum State {
        /** Waiting for the peer's HELLO; nothing else may arrive. */
        AWAITING_HELLO,
        /** Handshake done; the role's message types may flow. */
        READY,
        /** A protocol violation closed the channel; input is discarded. */
        FAILED
    }

    static final AttributeKey<WireSession> KEY = AttributeKey.valueOf(WireSession.class, "session");

    private final ChannelRole role;
    private State state;
    private int version;

    WireSession(ChannelRole role) {
        this.role = role;
        if (role.helloMode() == ChannelRole.HelloMode.NONE) {
            this.state = State.READY;
            this.version = role.ourVersion();
        } else {
            this.state = State.AWAITING_HELLO;
        }
    }

    /** The session of a channel set up by {@link WirePipeline}, or {@code null}. */
    public static WireSession of(Channel channel) {
        return channel.attr(KEY).get();
    }

    public ChannelRole role() {
        return role;
    }

    public State state() {
        return state;
    }

    /** The negotiated version, or 0 before the handshake. */
    public int version() {
        return version;
    }

    void ready(int negotiated) {
        this.version = negotiated;
        this.state = State.READY;
    }

    void fail() {
        this.state = State.FAILED;
    }

    /** Largest data chunk to send now (the version 2 limit until the handshake is done). */
    public int outboundChunkLimit() {
        return role.maxOutboundChunk(state == State.READY ? version : 2);
    }
}
