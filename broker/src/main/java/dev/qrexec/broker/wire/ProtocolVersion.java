package dev.qrexec.broker.wire;

/**
 * Protocol versions and their negotiation (spec qrexec-wire.md 2.5 and 3).
 * Each side proposes its own version; both use the smaller one, and a peer below the
 * channel's minimum is refused.
 */
public final class ProtocolVersion {

    /** Version spoken by agents and the daemon on control and data channels. */
    public static final int CURRENT = 4;
    /** Version spoken on the local daemon socket (qrexec-client). */
    public static final int CLIENT = 3;
    /** Oldest agent version the daemon accepts. */
    public static final int MIN_AGENT = 2;
    /** Oldest local-client version the daemon accepts. */
    public static final int MIN_CLIENT = 3;

    private ProtocolVersion() {
    }

    /**
     * The version two peers use.
     *
     * @throws ProtocolViolationException if the peer's version is below {@code minimum}
     */
    public static int negotiate(int ours, int peer, int minimum) {
        // The field is a uint32 on the wire: a "negative" value is a huge version, i.e. newer.
        long peerUnsigned = Integer.toUnsignedLong(peer);
        if (peerUnsigned < minimum) {
            throw new ProtocolViolationException(
                    "peer speaks protocol version " + peerUnsigned + ", the oldest accepted is " + minimum);
        }
        return (int) Math.min(ours, peerUnsigned);
    }
}
