package dev.qrexec.policy.daemon;

import java.io.IOException;

/**
 * What a socket of {@link PolicySocketServer} speaks: read one request from a connection, answer
 * it. One connection carries one request; the server writes the reply and closes.
 *
 * <p>Implementations are shared by all serving threads and must be thread-safe; they run on the
 * thread that accepted the connection, so they must not block on anything but the input and,
 * once the request is complete, an asynchronous reply.
 */
interface SocketProtocol {

    /** For logs: the socket's service, e.g. {@code policy.sock}. */
    String name();

    /**
     * Reads a request from {@code in} and returns the reply's bytes; tells {@code connection} when
     * the request is complete and the reply may take long ({@link Connection#awaitingReply()}).
     *
     * @throws MalformedRequestException if the connection must be closed without a reply (the reason
     *                                   is logged by the caller)
     * @throws IOException               if reading fails (the client went away, or the deadline closed it)
     */
    byte[] answer(RequestInput in, Connection connection) throws IOException, MalformedRequestException;
}
