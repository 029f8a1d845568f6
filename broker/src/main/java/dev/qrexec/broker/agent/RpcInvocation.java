package dev.qrexec.broker.agent;

import java.util.Objects;
import java.util.Optional;

/**
 * A parsed {@code QUBESRPC <svc>[+<arg>] <source> [<name|keyword> <target>]} command (spec 7.1).
 *
 * @param service         the service name without argument, e.g. {@code qubes.OpenURL}
 * @param argument        the argument, present (possibly empty) only when the name had a {@code +}
 * @param source          the calling domain
 * @param targetType      {@code name}, {@code keyword} or empty when the caller did not say
 * @param requestedTarget the target as the caller typed it, without a leading {@code @}; empty if none
 */
public record RpcInvocation(String service, Optional<String> argument, String source,
                            String targetType, String requestedTarget) {

    static final String PREFIX = "QUBESRPC ";

    public RpcInvocation {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(argument, "argument");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(targetType, "targetType");
        Objects.requireNonNull(requestedTarget, "requestedTarget");
    }

    static boolean isRpc(String command) {
        return command.startsWith(PREFIX);
    }

    /** Parses a command that starts with {@code QUBESRPC }. */
    public static RpcInvocation parse(String command) {
        if (!isRpc(command)) {
            throw new IllegalArgumentException("not a QUBESRPC command");
        }
        String[] words = command.substring(PREFIX.length()).split(" ", -1);
        if (words.length != 2 && words.length != 4) {
            throw new IllegalArgumentException(
                    "QUBESRPC needs 'service source' or 'service source type target', got "
                            + words.length + " words");
        }
        String full = words[0];
        if (full.isEmpty() || full.startsWith("+") || !full.chars().allMatch(RpcInvocation::isServiceChar)) {
            throw new IllegalArgumentException("invalid service name '" + printable(full) + "'");
        }
        if (words[1].isEmpty()) {
            throw new IllegalArgumentException("empty source domain");
        }
        int plus = full.indexOf('+');
        String service = plus < 0 ? full : full.substring(0, plus);
        Optional<String> arg = plus < 0 ? Optional.empty() : Optional.of(full.substring(plus + 1));
        String type = words.length == 4 ? words[2] : "";
        String target = words.length == 4 ? words[3] : "";
        if (!type.isEmpty() && !type.equals("name") && !type.equals("keyword")) {
            throw new IllegalArgumentException("requested target type must be name or keyword");
        }
        return new RpcInvocation(service, arg, words[1], type, target);
    }

    /** {@code svc+arg} as received, or {@code svc} when there was no {@code +}. */
    public String fullName() {
        return argument.map(a -> service + "+" + a).orElse(service);
    }

    static boolean isServiceChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || c == '.' || c == '+';
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> b.append(c >= 0x20 && c < 0x7f ? (char) c : '?'));
        return b.toString();
    }
}
