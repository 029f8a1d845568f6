package dev.qrexec.broker.wire;

import java.util.Objects;

/**
 * MSG_TRIGGER_SERVICE, MSG_TRIGGER_SERVICE3 or MSG_TRIGGER_SERVICE4: a qube asks to call a service.
 *
 * <p>The fields are kept as received so the daemon can apply the C daemon's checks (spec 4.1) and
 * answer a bad request with SERVICE_REFUSED instead of dropping the channel. Strings hold raw bytes
 * one char per byte (ISO-8859-1). {@code sourceDomain} and {@code targetDomain} are the bytes before
 * the first NUL of their fixed field, at most 63. {@code serviceField} is the whole variable tail
 * (for version 2: the fixed 64-byte field up to and including its first NUL), normally the name
 * followed by one NUL; {@link #serviceName()} checks that shape.
 */
public record Trigger(MessageType type, String sourceDomain, String targetDomain, RequestId requestId,
                      String serviceField) implements QrexecMessage {

    public Trigger {
        if (!type.isTrigger()) {
            throw new IllegalArgumentException("not a trigger type: " + type);
        }
        Objects.requireNonNull(sourceDomain, "sourceDomain");
        Objects.requireNonNull(targetDomain, "targetDomain");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(serviceField, "serviceField");
        if (type != MessageType.TRIGGER_SERVICE4 && !sourceDomain.isEmpty()) {
            throw new IllegalArgumentException(type + " has no source_domain field");
        }
    }

    /** A well-formed TRIGGER_SERVICE4, as qrexec-client-vm and the agent send it. */
    public static Trigger v4(String sourceDomain, String targetDomain, RequestId requestId, String serviceName) {
        return new Trigger(MessageType.TRIGGER_SERVICE4, sourceDomain, targetDomain, requestId, serviceName + '\0');
    }

    /** A well-formed TRIGGER_SERVICE3. */
    public static Trigger v3(String targetDomain, RequestId requestId, String serviceName) {
        return new Trigger(MessageType.TRIGGER_SERVICE3, "", targetDomain, requestId, serviceName + '\0');
    }

    /** A well-formed version 2 TRIGGER_SERVICE. */
    public static Trigger v2(String targetDomain, RequestId requestId, String serviceName) {
        return new Trigger(MessageType.TRIGGER_SERVICE, "", targetDomain, requestId, serviceName + '\0');
    }

    /**
     * The service name if the field is exactly one NUL-free name followed by one NUL, else
     * {@code null} (the C daemon refuses such requests).
     */
    public String serviceName() {
        int nul = serviceField.indexOf('\0');
        if (nul < 0 || nul != serviceField.length() - 1) {
            return null;
        }
        return serviceField.substring(0, nul);
    }

    /** True for TRIGGER_SERVICE4, the only type that carries a requested source. */
    public boolean hasSourceField() {
        return type == MessageType.TRIGGER_SERVICE4;
    }
}
