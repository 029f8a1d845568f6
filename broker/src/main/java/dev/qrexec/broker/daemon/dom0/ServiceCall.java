package dev.qrexec.broker.daemon.dom0;

import java.util.Objects;

/**
 * What a dom0 service is told about its call (the environment the C dom0 runner gives,
 * spec qrexec-wire.md 6.2 and 7.2).
 *
 * @param service         service name without argument
 * @param argument        the argument after {@code +}, empty if none
 * @param source          the calling qube
 * @param requestedTarget the target as the caller asked for it, without a leading {@code @}
 * @param targetIsKeyword true if the caller used a keyword ({@code @adminvm}, ...), false for a name
 */
public record ServiceCall(String service, String argument, String source, String requestedTarget,
                          boolean targetIsKeyword) {

    public ServiceCall {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(argument, "argument");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(requestedTarget, "requestedTarget");
    }

    /** {@code svc+arg}, with the {@code +} even when the argument is empty. */
    public String fullName() {
        return service + "+" + argument;
    }
}
