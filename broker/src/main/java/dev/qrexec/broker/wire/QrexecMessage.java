package dev.qrexec.broker.wire;

/**
 * One decoded qrexec message. Control messages are immutable records; {@link DataFrame} holds
 * a reference-counted buffer and must be released by whoever consumes it.
 */
public sealed interface QrexecMessage
        permits Hello, ExecCommand, ExecParamsReply, ServiceConnect, ServiceRefused,
                ConnectionTerminated, Trigger, ExitCode, DataFrame {

    /** The wire type of this message. */
    MessageType type();
}
