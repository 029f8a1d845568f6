package dev.qrexec.broker.wire;

/**
 * The daemon's 8-byte answer on the local socket (spec 4.3): a header of the request's type
 * ({@code EXEC_CMDLINE}, {@code JUST_EXEC} or {@code SERVICE_CONNECT}) with only
 * {@code {connect_domain, connect_port}} as body.
 */
public record ExecParamsReply(MessageType type, int connectDomain, int connectPort) implements QrexecMessage {

    public ExecParamsReply {
        if (type != MessageType.EXEC_CMDLINE && type != MessageType.JUST_EXEC
                && type != MessageType.SERVICE_CONNECT) {
            throw new IllegalArgumentException("not a local-socket request type: " + type);
        }
    }
}
