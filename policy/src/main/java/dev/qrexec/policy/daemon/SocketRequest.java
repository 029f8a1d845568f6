package dev.qrexec.policy.daemon;

import java.util.Objects;

/**
 * One validated request read from {@code policy.sock} (spec 7.1), exactly as it arrived on the wire.
 *
 * <p>Values are kept exactly as the client sent them: qrexec-daemon has already sanitised the names,
 * and the engine decides what they mean. An absent {@code requested_source} and an empty one are the
 * same thing for the engine, so both are represented by the empty string.
 *
 * @param source           the calling qube, as named by qrexec-daemon
 * @param intendedTarget   the target the caller typed ({@code ""} means {@code @default})
 * @param serviceAndArg    {@code service[+argument]}, split by the engine at the first {@code +}
 * @param requestedSource  the RemoteVM source an agent asked for, or {@code ""}
 * @param assumeYesForAsk  {@code assume_yes_for_ask=yes}
 * @param justEvaluate     {@code just_evaluate=yes}
 */
public record SocketRequest(String source, String intendedTarget, String serviceAndArg,
                            String requestedSource, boolean assumeYesForAsk, boolean justEvaluate) {

    public SocketRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(intendedTarget, "intendedTarget");
        Objects.requireNonNull(serviceAndArg, "serviceAndArg");
        Objects.requireNonNull(requestedSource, "requestedSource");
    }

    /** The service part of {@link #serviceAndArg()} (everything before the first {@code +}). */
    public String service() {
        int plus = serviceAndArg.indexOf('+');
        return plus < 0 ? serviceAndArg : serviceAndArg.substring(0, plus);
    }

    /** The argument part, always starting with {@code +} ({@code "+"} alone is the empty argument). */
    public String argument() {
        int plus = serviceAndArg.indexOf('+');
        return plus < 0 ? "+" : serviceAndArg.substring(plus);
    }

    /** For logs: every field quoted, control bytes escaped, long values cut (the values are untrusted). */
    @Override
    public String toString() {
        return "SocketRequest[source=" + PolicyRequestParser.quote(source)
                + ", intended_target=" + PolicyRequestParser.quote(intendedTarget)
                + ", service_and_arg=" + PolicyRequestParser.quote(serviceAndArg)
                + (requestedSource.isEmpty() ? "" : ", requested_source=" + PolicyRequestParser.quote(requestedSource))
                + (assumeYesForAsk ? ", assume_yes_for_ask" : "") + (justEvaluate ? ", just_evaluate" : "") + "]";
    }

    /** Renders the request in wire form, terminated by the empty line (used by tests and the load harness). */
    public String toWire() {
        StringBuilder sb = new StringBuilder(96)
                .append("source=").append(source).append('\n')
                .append("intended_target=").append(intendedTarget).append('\n')
                .append("service_and_arg=").append(serviceAndArg).append('\n');
        if (!requestedSource.isEmpty()) {
            sb.append("requested_source=").append(requestedSource).append('\n');
        }
        if (assumeYesForAsk) {
            sb.append("assume_yes_for_ask=yes\n");
        }
        if (justEvaluate) {
            sb.append("just_evaluate=yes\n");
        }
        return sb.append('\n').toString();
    }
}
