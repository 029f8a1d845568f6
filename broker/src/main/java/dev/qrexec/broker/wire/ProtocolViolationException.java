package dev.qrexec.broker.wire;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * A peer broke the wire protocol: a malformed or oversize frame, an unknown type, a type not
 * allowed in the channel's current state, or an unacceptable version. The channel that saw it is
 * closed; no other channel is affected.
 */
public class ProtocolViolationException extends CorruptedFrameException {

    private static final long serialVersionUID = 1L;

    public ProtocolViolationException(String message) {
        super(message);
    }
}
