package dev.qrexec.broker.wire;

import java.util.Objects;

/** MSG_SERVICE_CONNECT: the answer to a trigger; the caller listens on {@code (connectDomain, connectPort)}. */
public record ServiceConnect(int connectDomain, int connectPort, RequestId requestId) implements QrexecMessage {

    public ServiceConnect {
        Objects.requireNonNull(requestId, "requestId");
    }

    @Override
    public MessageType type() {
        return MessageType.SERVICE_CONNECT;
    }
}
