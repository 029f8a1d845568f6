package dev.qrexec.broker.wire;

/** User event fired just before a channel is closed for breaking the protocol. */
public record ProtocolViolation(ChannelRole role, String reason) {
}
