package dev.qrexec.policy.daemon;

import java.util.concurrent.CompletableFuture;

/**
 * Like {@link PolicyResponder}, but the reply may come later: an {@code ask} in normal mode is
 * answered only once the user chose (or the prompt timed out). {@link #replyAsync} itself never
 * blocks, so it may be called on an event loop; the future completes on whatever thread delivered
 * the answer, and never exceptionally (any failure is a {@code result=deny}).
 *
 * <p>For a server: call it when the request is complete, write the reply text when the future
 * completes ({@code future.whenComplete} then hop onto the channel's event loop), and keep the
 * connection's read deadline from closing a connection whose reply is pending: the wait is the
 * user's, bounded by the responder's own ask timeout.
 */
@FunctionalInterface
public interface AsyncPolicyResponder {

    CompletableFuture<String> replyAsync(SocketRequest request);
}
