package dev.qrexec.broker.wire;

import java.util.Objects;

/**
 * MSG_EXEC_CMDLINE or MSG_JUST_EXEC: run {@code commandLine} ({@code user:command}) and connect
 * its data channel to {@code (connectDomain, connectPort)}.
 */
public record ExecCommand(MessageType type, int connectDomain, int connectPort, String commandLine)
        implements QrexecMessage {

    public ExecCommand {
        if (type != MessageType.EXEC_CMDLINE && type != MessageType.JUST_EXEC) {
            throw new IllegalArgumentException("not an exec type: " + type);
        }
        Objects.requireNonNull(commandLine, "commandLine");
        if (commandLine.isEmpty() || commandLine.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("command line must be non-empty and contain no NUL");
        }
    }

    public static ExecCommand exec(int connectDomain, int connectPort, String commandLine) {
        return new ExecCommand(MessageType.EXEC_CMDLINE, connectDomain, connectPort, commandLine);
    }

    public static ExecCommand justExec(int connectDomain, int connectPort, String commandLine) {
        return new ExecCommand(MessageType.JUST_EXEC, connectDomain, connectPort, commandLine);
    }

    /** The same request aimed at another data endpoint (the daemon fills in the port). */
    public ExecCommand withEndpoint(int domain, int port) {
        return new ExecCommand(type, domain, port, commandLine);
    }
}
