package dev.qrexec.policy.daemon;

/**
 * Decides one {@code policy.sock} request and renders the reply text of spec 5.7 (lines joined by
 * {@code \n}, no trailing newline; {@code result=deny} for any denial).
 *
 * <p>Called by the thread serving the connection, from several threads at once, so it must be
 * thread-safe and should not block: evaluation is a pure function of an immutable policy snapshot
 * and system info.
 */
@FunctionalInterface
public interface PolicyResponder {

    String reply(SocketRequest request);
}
