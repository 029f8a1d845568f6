package dev.qrexec.broker.wire;

import java.util.Objects;

/** MSG_SERVICE_REFUSED: the call was refused; the agent closes the waiting client (exit 126). */
public record ServiceRefused(RequestId requestId) implements QrexecMessage {

    public ServiceRefused {
        Objects.requireNonNull(requestId, "requestId");
    }

    @Override
    public MessageType type() {
        return MessageType.SERVICE_REFUSED;
    }
}
