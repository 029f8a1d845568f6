package dev.qrexec.broker.agent;

/**
 * A service implemented in Java and run inside the agent, on a thread of its own, instead of as a
 * child process. Used for services that act on the agent itself (waiting for start-up, releasing
 * memory) and for small ones where a fork costs more than the work.
 * A file of the same name in the service path takes precedence, so an administrator can override it.
 */
@FunctionalInterface
public interface JavaService {

    /**
     * Runs the call to completion. Reading {@code stdin} until EOF and writing the streams is up to
     * the service; the agent closes the streams afterwards.
     *
     * @return the exit status sent to the caller
     */
    int run(ServiceCall call) throws Exception;
}
