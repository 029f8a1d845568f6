package dev.qrexec.policy.daemon;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code policy.sock} protocol (spec 7.1): ASCII {@code key=value} lines ended by an empty
 * line or the end of input; the reply is the responder's text, then the server closes.
 *
 * <p>A malformed request (a line without {@code =}, unknown or repeated keys, bad booleans, missing
 * keys, a byte outside ASCII, a line longer than the limit) is refused by closing without a reply,
 * as the reference does. A responder that throws, or a reply that is not ASCII, becomes a logged
 * {@code result=deny}: the reference would crash and answer nothing, and a deny is the safe
 * equivalent. Bytes after the empty line are never read.
 *
 * <p>With an {@link AsyncPolicyResponder} (one that can ask a user), the serving thread waits for
 * the reply, at most {@code replyTimeout} (then {@code result=deny}); the connection is marked as
 * awaiting its reply so that the read deadline does not close it meanwhile.
 */
final class PolicyRequestProtocol implements SocketProtocol {

    private static final System.Logger LOG = System.getLogger(PolicyRequestProtocol.class.getName());
    private static final byte[] DENY_BYTES = "result=deny".getBytes(StandardCharsets.US_ASCII);

    private final PolicyResponder responder;
    private final AsyncPolicyResponder asyncResponder;
    private final long replyTimeoutNanos;
    private final int maxLineLength;

    /** @param maxLineLength longest request line in bytes, without its newline */
    PolicyRequestProtocol(PolicyResponder responder, int maxLineLength) {
        this(Objects.requireNonNull(responder, "responder"), null, 0, maxLineLength);
    }

    /** @param replyTimeoutNanos how long to wait for a reply once the request is complete */
    PolicyRequestProtocol(AsyncPolicyResponder responder, long replyTimeoutNanos, int maxLineLength) {
        this(null, Objects.requireNonNull(responder, "responder"), replyTimeoutNanos, maxLineLength);
    }

    private PolicyRequestProtocol(PolicyResponder responder, AsyncPolicyResponder asyncResponder,
                                  long replyTimeoutNanos, int maxLineLength) {
        if (maxLineLength < 1) {
            throw new IllegalArgumentException("maxLineLength must be positive, was " + maxLineLength);
        }
        this.responder = responder;
        this.asyncResponder = asyncResponder;
        this.replyTimeoutNanos = replyTimeoutNanos;
        this.maxLineLength = maxLineLength;
    }

    @Override
    public String name() {
        return "policy.sock";
    }

    @Override
    public byte[] answer(RequestInput in, Connection connection) throws IOException, MalformedRequestException {
        SocketRequest request = read(in);
        if (asyncResponder == null) {
            return reply(request);
        }
        connection.awaitingReply();
        return awaitReply(request);
    }

    /** Reads the lines of one request up to the empty line or the end of input, and validates them. */
    SocketRequest read(RequestInput in) throws IOException, MalformedRequestException {
        PolicyRequestParser parser = new PolicyRequestParser();
        while (true) {
            int newline = in.find((byte) '\n', maxLineLength, "request line");
            int length = newline >= 0 ? newline : in.available();
            if (length == 0) {
                // The empty line, or the end of input right after a newline (or of an empty request).
                return parser.finish();
            }
            parser.line(in.takeAscii(length, "a request line"));
            if (newline < 0) {
                // The end of input ended a last line that had no newline.
                return parser.finish();
            }
            in.skip(1);
        }
    }

    /** The reply to a valid request from the synchronous responder, or a deny if it fails. */
    byte[] reply(SocketRequest request) {
        String reply;
        try {
            reply = responder.reply(request);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "policy.sock: evaluation of " + request + " failed; denying", e);
            return DENY_BYTES;
        }
        return ascii(request, reply);
    }

    /** The reply from the asynchronous responder, waited for at most the reply timeout. */
    byte[] awaitReply(SocketRequest request) {
        try {
            CompletableFuture<String> pending = asyncResponder.replyAsync(request);
            return ascii(request, pending.get(replyTimeoutNanos, TimeUnit.NANOSECONDS));
        } catch (TimeoutException e) {
            LOG.log(Level.WARNING, "policy.sock: no reply for {0} within {1} ms; denying", request,
                    TimeUnit.NANOSECONDS.toMillis(replyTimeoutNanos));
        } catch (InterruptedException e) {
            // The server is closing.
            Thread.currentThread().interrupt();
        } catch (ExecutionException | RuntimeException e) {
            LOG.log(Level.ERROR, "policy.sock: evaluation of " + request + " failed; denying", e);
        }
        return DENY_BYTES;
    }

    private static byte[] ascii(SocketRequest request, String reply) {
        if (reply == null || !isAscii(reply)) {
            LOG.log(Level.ERROR, "policy.sock: reply for {0} is not ASCII text; denying", request);
            return DENY_BYTES;
        }
        return reply.getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                return false;
            }
        }
        return true;
    }
}
