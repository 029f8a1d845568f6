package dev.qrexec.broker.agent;

/**
 * When the data phase of a call ends (spec qrexec-wire.md 5.2, 7.2). A process ends when its
 * stdout and stderr reached EOF and it exited. A socket service has no exit status: by default the
 * call ends once both directions reached EOF (the caller's stdin and the socket's output), with
 * exit code 0; its config may end it earlier:
 * <ul>
 *   <li>{@code exit-on-client-eof}: the caller's stdin EOF ends the call at once; the socket is
 *       closed without waiting for what the service might still send;</li>
 *   <li>{@code exit-on-service-eof}: the socket's EOF ends the call at once, whatever the caller
 *       still sends.</li>
 * </ul>
 * Qubes honours both keys for socket services only and ignores them, with a warning, for others.
 *
 * @param socket           true for a socket service (no exit status, no stderr of its own)
 * @param exitOnClientEof  {@code exit-on-client-eof = true} (socket services only)
 * @param exitOnServiceEof {@code exit-on-service-eof = true} (socket services only)
 */
public record CallEnding(boolean socket, boolean exitOnClientEof, boolean exitOnServiceEof) {

    /** A process or Java service: the streams and the exit status. */
    public static final CallEnding PROCESS = new CallEnding(false, false, false);

    public CallEnding {
        if (!socket && (exitOnClientEof || exitOnServiceEof)) {
            throw new IllegalArgumentException("exit-on-client-eof and exit-on-service-eof apply to socket services only");
        }
    }

    /** The ending of a socket service with {@code config}. */
    public static CallEnding socket(ServiceConfig config) {
        return new CallEnding(true, config.exitOnClientEof(), config.exitOnServiceEof());
    }

    /** True when the call still waits for the caller's stdin EOF after the service's output ended. */
    boolean waitsForClientEof() {
        return socket && !exitOnServiceEof;
    }
}
