package dev.qrexec.broker.wire;

/** MSG_HELLO: the first message on every framed channel but the trigger socket. */
public record Hello(int version) implements QrexecMessage {
    @Override
    public MessageType type() {
        return MessageType.HELLO;
    }
}
