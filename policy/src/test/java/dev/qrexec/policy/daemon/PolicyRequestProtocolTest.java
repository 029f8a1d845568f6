package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Reading and answering one policy.sock request, without a socket: input in pieces of any size. */
class PolicyRequestProtocolTest {

    private static final String ALLOW = "user=DEFAULT\nresult=allow\ntarget=vault\nautostart=True\nrequested_target=vault";
    private static final PolicyRequestProtocol ECHO = new PolicyRequestProtocol(r -> r.source(), 32);

    private static SocketRequest read(String wire, int chunk) throws Exception {
        return ECHO.read(ChunkedInput.of(wire, chunk));
    }

    private static String refusal(String wire) {
        return assertThrows(MalformedRequestException.class, () -> read(wire, 5)).getMessage();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 1000})
    void readsTheRequestUpToTheEmptyLineWhateverThePieces(int chunk) throws Exception {
        ChunkedInput source = new ChunkedInput("source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x\n"
                + "just_evaluate=yes\n\nignored after the end", chunk);
        assertEquals(new SocketRequest("work", "vault", "qubes.Filecopy+x", "", false, true),
                ECHO.read(new RequestInput(64).reset(source)));
        if (chunk == 1) {
            assertEquals("ignored after the end".length(), source.unread(), "nothing after the empty line is read");
        }
    }

    @Test
    void endOfInputEndsTheRequestAndKeepsALastLineWithoutNewline() throws Exception {
        assertEquals(new SocketRequest("work", "vault", "s", "", false, false),
                read("source=work\nintended_target=vault\nservice_and_arg=s", 4));
        assertEquals(new SocketRequest("work", "vault", "s", "", true, false),
                read("source=work\nintended_target=vault\nservice_and_arg=s\nassume_yes_for_ask=yes\n", 4));
    }

    @Test
    void keepsCarriageReturnAndControlBytesAsData() throws Exception {
        assertEquals(new SocketRequest("a\r", "\u0000", "s", "", false, false),
                read("source=a\r\nintended_target=\u0000\nservice_and_arg=s\n\n", 3));
    }

    @Test
    void malformedRequestsAreRefusedWithTheirReason() {
        String ok = "source=work\nintended_target=vault\nservice_and_arg=s\n";
        assertEquals("unknown argument 'domain_id'", refusal(ok + "domain_id=3\n\n"));
        assertEquals("duplicate argument 'source'", refusal("source=work\nsource=work\n"));
        assertEquals("required argument missing: service_and_arg", refusal("source=work\nintended_target=vault\n\n"));
        assertEquals("required argument missing: source", refusal("\n"));
        assertEquals("required argument missing: source", refusal(""));
        assertEquals("line without '=': 'garbage'", refusal(ok + "garbage\n\n"));
        assertEquals("invalid bool value 'true' for argument just_evaluate", refusal(ok + "just_evaluate=true\n\n"));
        assertEquals("non-ASCII byte at offset 7 of a request line", refusal("source=\u00ff\n"));
        assertEquals("request line longer than 32 bytes", refusal("source=" + "a".repeat(40)));
        assertEquals("request line longer than 32 bytes", refusal("source=" + "a".repeat(26) + "\n\n"));
    }

    @Test
    void aLineOfExactlyTheLimitIsAccepted() throws Exception {
        assertEquals("a".repeat(25), read("source=" + "a".repeat(25) + "\nintended_target=v\nservice_and_arg=s\n\n", 5).source());
    }

    @Test
    void theDefaultLimitAcceptsALongServiceName() throws Exception {
        PolicyRequestProtocol p = new PolicyRequestProtocol(r -> "", PolicyRequestParser.MAX_LINE_LENGTH);
        String service = "s".repeat(65_000);
        assertEquals(service, p.read(ChunkedInput.of(
                "source=w\nintended_target=v\nservice_and_arg=" + service + "\n\n", 4096)).serviceAndArg());
    }

    private static String reply(PolicyResponder responder) {
        return new String(new PolicyRequestProtocol(responder, 100).reply(
                new SocketRequest("work", "vault", "qubes.Filecopy", "", false, false)), StandardCharsets.US_ASCII);
    }

    @Test
    void theReplyIsTheRespondersTextVerbatim() {
        assertEquals(ALLOW, reply(r -> r.source().equals("work") ? ALLOW : "wrong"));
    }

    @Test
    void aFailingOrNonAsciiResponderBecomesDeny() {
        assertEquals("result=deny", reply(r -> {
            throw new IllegalStateException("engine bug");
        }));
        assertEquals("result=deny", reply(r -> "user=\u00e9\nresult=allow"));
        assertEquals("result=deny", reply(r -> null));
    }

    private static final SocketRequest REQUEST = new SocketRequest("work", "vault", "s", "", false, false);

    private static String awaited(AsyncPolicyResponder responder, long timeoutMillis) {
        return new String(new PolicyRequestProtocol(responder, TimeUnit.MILLISECONDS.toNanos(timeoutMillis), 100)
                .awaitReply(REQUEST), StandardCharsets.US_ASCII);
    }

    @Test
    void anAsynchronousReplyIsWaitedForAndTheConnectionMarkedPending() throws Exception {
        Connection connection = new Connection(null, 0);
        PolicyRequestProtocol p = new PolicyRequestProtocol(
                r -> CompletableFuture.supplyAsync(() -> ALLOW), TimeUnit.SECONDS.toNanos(5), 100);
        assertEquals(ALLOW, new String(p.answer(ChunkedInput.of("source=work\nintended_target=vault\nservice_and_arg=s\n\n", 9),
                connection), StandardCharsets.US_ASCII));
        assertTrue(connection.replyPending, "the read deadline no longer applies");
    }

    @Test
    void anAsynchronousFailureOrTimeoutIsADeny() {
        assertEquals("result=deny", awaited(r -> new CompletableFuture<>(), 50));
        assertEquals("result=deny", awaited(r -> CompletableFuture.failedFuture(new IllegalStateException("bug")), 1000));
        assertEquals("result=deny", awaited(r -> {
            throw new IllegalStateException("bug");
        }, 1000));
        assertEquals("result=deny", awaited(r -> CompletableFuture.completedFuture("r\u00e9sult=allow"), 1000));
    }

    @Test
    void limitMustBePositive() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PolicyRequestProtocol(r -> "", 0))
                .getMessage().contains("maxLineLength must be positive"));
    }
}
