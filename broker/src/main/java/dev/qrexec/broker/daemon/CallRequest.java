package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.RequestId;

import java.util.Objects;
import java.util.Optional;

/**
 * A validated trigger: who calls (taken from the channel the trigger arrived on, never from the
 * message), what it asked for, sanitised as the C daemon does (spec qrexec-wire.md 4.1).
 *
 * @param source          name of the calling qube (its control channel's owner)
 * @param sourceDomain    domain id of the calling qube
 * @param requestedSource the TRIGGER_SERVICE4 {@code source_domain} hint, empty if absent; only the
 *                        policy may honour it (RemoteVM relays)
 * @param hasRequestedSourceField true for TRIGGER_SERVICE4, whose policy query carries
 *                        {@code requested_source=} even when empty
 * @param target          the target as typed ({@code dom0}, {@code @dispvm:T}, a name, ...)
 * @param serviceAndArg   {@code svc} or {@code svc+arg}
 * @param requestId       the 32 ident bytes exactly as received
 */
public record CallRequest(String source, int sourceDomain, String requestedSource, boolean hasRequestedSourceField,
                          String target, String serviceAndArg, RequestId requestId) {

    public CallRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(requestedSource, "requestedSource");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(serviceAndArg, "serviceAndArg");
        Objects.requireNonNull(requestId, "requestId");
    }

    /** The service name without its argument. */
    public String service() {
        int plus = serviceAndArg.indexOf('+');
        return plus < 0 ? serviceAndArg : serviceAndArg.substring(0, plus);
    }

    /** The argument after the first {@code +}, if there is a {@code +}. */
    public Optional<String> argument() {
        int plus = serviceAndArg.indexOf('+');
        return plus < 0 ? Optional.empty() : Optional.of(serviceAndArg.substring(plus + 1));
    }
}
