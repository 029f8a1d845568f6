package dev.qrexec.broker.wire;

/** MSG_CONNECTION_TERMINATED: the data connection started for {@code (connectDomain, connectPort)} is over. */
public record ConnectionTerminated(int connectDomain, int connectPort) implements QrexecMessage {
    @Override
    public MessageType type() {
        return MessageType.CONNECTION_TERMINATED;
    }
}
