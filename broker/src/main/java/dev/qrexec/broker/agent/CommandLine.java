package dev.qrexec.broker.agent;

import java.util.Objects;

/**
 * The command line an agent receives in EXEC_CMDLINE / JUST_EXEC: {@code <user>:[nogui:]<command>}
 * (spec 7.1). Only the first {@code :} separates the user.
 *
 * @param user    the user to run as (never {@code DEFAULT}: the daemon replaces it)
 * @param noGui   {@code nogui:} was given, so {@code qubes.WaitForSession} is skipped
 * @param command the rest: {@code QUBESRPC ...} or a shell command line
 */
public record CommandLine(String user, boolean noGui, String command) {

    private static final String NOGUI = "nogui:";

    public CommandLine {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(command, "command");
    }

    /** Parses the text of a command line (without its NUL terminator). */
    public static CommandLine parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("command line has no 'user:' prefix");
        }
        String user = text.substring(0, colon);
        if (!user.chars().allMatch(CommandLine::isUserChar)) {
            throw new IllegalArgumentException("invalid user name in command line");
        }
        String rest = text.substring(colon + 1);
        boolean noGui = rest.startsWith(NOGUI);
        if (noGui) {
            rest = rest.substring(NOGUI.length());
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        return new CommandLine(user, noGui, rest);
    }

    /** The RPC invocation if the command is {@code QUBESRPC ...}, else {@code null} (a shell command). */
    public RpcInvocation rpcOrNull() {
        return RpcInvocation.isRpc(command) ? RpcInvocation.parse(command) : null;
    }

    private static boolean isUserChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || c == '.';
    }
}
