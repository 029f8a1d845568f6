package dev.qrexec.broker.wire;

/** MSG_DATA_EXIT_CODE: the service's exit status, the last message of a call. */
public record ExitCode(int status) implements QrexecMessage {
    @Override
    public MessageType type() {
        return MessageType.DATA_EXIT_CODE;
    }
}
