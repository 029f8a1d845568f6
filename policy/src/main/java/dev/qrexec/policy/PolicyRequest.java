package dev.qrexec.policy;

import java.util.Objects;

/**
 * One question to the policy: may {@code source} call {@code service+argument} on
 * {@code intendedTarget}?
 *
 * @param service         the service name, without argument (never empty)
 * @param argument        the argument, always starting with {@code +} ({@code "+"} = empty argument)
 * @param source          the calling qube as qrexec-daemon names it (not validated, spec 5.1)
 * @param intendedTarget  the target as the caller typed it; {@code ""} means {@code @default}
 * @param requestedSource the RemoteVM the relay {@code source} speaks for, or {@code ""} (spec 5.1)
 * @param mode            how the answer will be used (spec 5.8)
 */
public record PolicyRequest(String service, String argument, String source, String intendedTarget,
                            String requestedSource, EvaluationMode mode) {

    public PolicyRequest {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(argument, "argument");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(intendedTarget, "intendedTarget");
        Objects.requireNonNull(requestedSource, "requestedSource");
        Objects.requireNonNull(mode, "mode");
        if (!argument.startsWith("+")) {
            throw new IllegalArgumentException("argument must start with '+', got '" + argument + "'");
        }
    }

    /** A request in {@link EvaluationMode#NORMAL} mode without requested source. */
    public static PolicyRequest of(String service, String argument, String source, String intendedTarget) {
        return new PolicyRequest(service, argument, source, intendedTarget, "", EvaluationMode.NORMAL);
    }

    /**
     * Splits {@code service_and_arg} at the first {@code +} as qrexec-daemon does: {@code svc} and
     * {@code svc+} both give argument {@code +}; {@code svc+a+b} gives {@code +a+b}.
     */
    public static PolicyRequest ofServiceAndArgument(String serviceAndArgument, String source, String intendedTarget) {
        int plus = serviceAndArgument.indexOf('+');
        String service = plus < 0 ? serviceAndArgument : serviceAndArgument.substring(0, plus);
        String argument = plus < 0 ? "+" : serviceAndArgument.substring(plus);
        return of(service, argument, source, intendedTarget);
    }

    public PolicyRequest withMode(EvaluationMode newMode) {
        return new PolicyRequest(service, argument, source, intendedTarget, requestedSource, newMode);
    }

    public PolicyRequest withRequestedSource(String newRequestedSource) {
        return new PolicyRequest(service, argument, source, intendedTarget, newRequestedSource, mode);
    }

    /** The qube the policy sees as source: the requested RemoteVM when there is one (spec 5.1). */
    public String effectiveSource() {
        return requestedSource.isEmpty() ? source : requestedSource;
    }

    @Override
    public String toString() {
        return service + argument + ": " + source
                + (requestedSource.isEmpty() ? "" : " (for " + requestedSource + ")")
                + " -> " + (intendedTarget.isEmpty() ? "@default" : intendedTarget)
                + (mode == EvaluationMode.NORMAL ? "" : " [" + mode + "]");
    }
}
