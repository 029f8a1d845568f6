package dev.qrexec.broker.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * A started service, seen as three byte streams and an exit status, whether it is a child process
 * or a Java service running in the agent. The data-channel relay only talks to this interface.
 */
public interface RunningService {

    /** Where the caller's stdin goes. Closing it is stdin EOF. */
    OutputStream stdin();

    InputStream stdout();

    /** The service's stderr; an empty stream if it has none of its own. */
    InputStream stderr();

    /** Completes with the exit status (128 + signal number if the process was killed). */
    CompletableFuture<Integer> exitStatus();

    /** Stops the service early (the caller hung up). Idempotent. */
    void destroy();
}
