package dev.qrexec.broker.wire;

/**
 * User event fired once the HELLO exchange is done (immediately for the trigger socket).
 * Handlers wait for it before writing anything on channels whose role replies to HELLO.
 */
public record HandshakeCompleted(ChannelRole role, int version) {
}
