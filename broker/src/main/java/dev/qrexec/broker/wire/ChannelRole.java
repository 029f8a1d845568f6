package dev.qrexec.broker.wire;

import java.util.EnumSet;
import java.util.Set;

import static dev.qrexec.broker.wire.MessageType.*;

/**
 * What one end of a framed channel is: it fixes the handshake, the frame limits and which
 * messages may arrive (spec qrexec-wire.md 1, 3 and 4).
 */
public enum ChannelRole {
    /** The daemon's end of a qube's control channel: waits for the agent's HELLO, replies. */
    DAEMON_CONTROL(HelloMode.REPLY, ProtocolVersion.CURRENT, ProtocolVersion.MIN_AGENT,
            EnumSet.of(TRIGGER_SERVICE, TRIGGER_SERVICE3, TRIGGER_SERVICE4, CONNECTION_TERMINATED),
            EnumSet.noneOf(MessageType.class)),
    /** The agent's end of the control channel: sends HELLO first. */
    AGENT_CONTROL(HelloMode.SEND_FIRST, ProtocolVersion.CURRENT, ProtocolVersion.MIN_AGENT,
            EnumSet.of(EXEC_CMDLINE, JUST_EXEC, SERVICE_CONNECT, SERVICE_REFUSED),
            EnumSet.noneOf(MessageType.class)),
    /** The caller's end of a data channel: sends stdin, receives stdout, stderr, exit code. */
    DATA_CLIENT(HelloMode.SEND_FIRST, ProtocolVersion.CURRENT, ProtocolVersion.MIN_AGENT,
            EnumSet.of(DATA_STDOUT, DATA_STDERR, DATA_EXIT_CODE), EnumSet.of(DATA_STDIN)),
    /** The service's end of a data channel: receives stdin, sends the rest. */
    DATA_SERVICE(HelloMode.SEND_FIRST, ProtocolVersion.CURRENT, ProtocolVersion.MIN_AGENT,
            EnumSet.of(DATA_STDIN), EnumSet.of(DATA_STDOUT, DATA_STDERR, DATA_EXIT_CODE)),
    /** The daemon's end of the local socket (qrexec-client connects): daemon speaks first. */
    LOCAL_DAEMON(HelloMode.SEND_FIRST, ProtocolVersion.CLIENT, ProtocolVersion.MIN_CLIENT,
            EnumSet.of(EXEC_CMDLINE, JUST_EXEC, SERVICE_CONNECT), EnumSet.noneOf(MessageType.class)),
    /** A local client's end of the daemon socket: waits for the daemon's HELLO, replies. */
    LOCAL_CLIENT(HelloMode.REPLY, ProtocolVersion.CLIENT, ProtocolVersion.MIN_CLIENT,
            EnumSet.of(EXEC_CMDLINE, JUST_EXEC, SERVICE_CONNECT), EnumSet.noneOf(MessageType.class)),
    /** The agent's end of its trigger socket: no HELLO, one TRIGGER_SERVICE4 from qrexec-client-vm. */
    TRIGGER_SOCKET(HelloMode.NONE, ProtocolVersion.CURRENT, ProtocolVersion.CURRENT,
            EnumSet.of(TRIGGER_SERVICE4), EnumSet.noneOf(MessageType.class));

    /** How a role takes part in the HELLO exchange. */
    public enum HelloMode {
        /** Send our HELLO as soon as the channel is active, then expect the peer's. */
        SEND_FIRST,
        /** Wait for the peer's HELLO and answer with the negotiated version. */
        REPLY,
        /** No HELLO on this channel. */
        NONE
    }

    private final HelloMode helloMode;
    private final int ourVersion;
    private final int minPeerVersion;
    private final Set<MessageType> inbound;
    private final Set<MessageType> wrongDirection;

    ChannelRole(HelloMode helloMode, int ourVersion, int minPeerVersion, Set<MessageType> inbound,
                Set<MessageType> wrongDirection) {
        this.helloMode = helloMode;
        this.ourVersion = ourVersion;
        this.minPeerVersion = minPeerVersion;
        this.inbound = inbound;
        this.wrongDirection = wrongDirection;
    }

    public HelloMode helloMode() {
        return helloMode;
    }

    public int ourVersion() {
        return ourVersion;
    }

    public int minPeerVersion() {
        return minPeerVersion;
    }

    /** True for the two ends of a data channel. */
    public boolean isData() {
        return this == DATA_CLIENT || this == DATA_SERVICE;
    }

    /**
     * Why {@code type} may not arrive now at negotiated {@code version}, or {@code null} if it may.
     * Triggers follow the C daemon: TRIGGER_SERVICE only at version 2, TRIGGER_SERVICE3 from 3;
     * TRIGGER_SERVICE4 at any version, because current agents forward what qrexec-client-vm sent
     * whatever they negotiated (spec 3).
     */
    public String refusal(MessageType type, int version) {
        if (!inbound.contains(type)) {
            return type + " is not allowed on a " + this + " channel";
        }
        if (type == TRIGGER_SERVICE && version != 2) {
            return "TRIGGER_SERVICE is only allowed at protocol version 2, negotiated " + version;
        }
        if (type == TRIGGER_SERVICE3 && version < 3) {
            return "TRIGGER_SERVICE3 needs protocol version 3, negotiated " + version;
        }
        return null;
    }

    /**
     * True for data types that only flow the other way on this channel; the C code logs and
     * ignores them, so do we.
     */
    public boolean isWrongDirection(MessageType type) {
        return wrongDirection.contains(type);
    }

    /** Largest body accepted before the handshake and, for non-data roles, at any time. */
    public int maxControlBody() {
        return this == LOCAL_DAEMON ? WireLimits.MAX_QREXEC_CMD_LEN
                : WireLimits.MAX_CONTROL_FRAME - WireLimits.HEADER_SIZE;
    }

    /** Largest body accepted once {@code version} is negotiated. */
    public int maxBody(int version) {
        return isData() ? Math.max(WireLimits.maxDataChunk(version), maxControlBody()) : maxControlBody();
    }

    /** Largest data chunk this end sends at {@code version}; control roles send none. */
    public int maxOutboundChunk(int version) {
        return WireLimits.maxDataChunk(version);
    }

    /** Largest frame (header included) this end may send that is not data. */
    public int maxOutboundControlFrame() {
        // The local socket carries client commands up to MAX_QREXEC_CMD_LEN; control channels
        // must stay inside the agent's 4 KiB ring.
        return this == LOCAL_CLIENT ? WireLimits.HEADER_SIZE + WireLimits.MAX_QREXEC_CMD_LEN
                : WireLimits.MAX_CONTROL_FRAME;
    }
}
