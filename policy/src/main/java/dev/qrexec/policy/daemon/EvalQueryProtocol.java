package dev.qrexec.policy.daemon;

import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code policy.EvalSimple} / {@code policy.EvalGUI} (spec 7.2) as qrexec delivers them to a socket
 * service: the header {@code <service>+<argument> } (up to the first space), the metadata
 * {@code <caller> ...} (up to the first NUL), then the payload {@code source\0target}: up to
 * {@link #MAX_PAYLOAD} bytes, ending at that size or at the end of input.
 *
 * <p>The query is validated as the reference does, evaluated in {@code just_evaluate} +
 * {@code assume_yes_for_ask} mode and answered {@code result=allow\n} or {@code result=deny\n};
 * any validation failure closes the connection without a reply.
 */
final class EvalQueryProtocol implements SocketProtocol {

    /** The payload is {@code source\0target}: 31 + 1 + 63 bytes at most, the reference reads 96. */
    static final int MAX_PAYLOAD = 96;
    /** Header and metadata limit (asyncio's default line limit in the reference). */
    static final int MAX_FIELD = 65_536;

    /**
     * The parts of one query, bytes as received.
     *
     * @param header   {@code service[+argument]} without the terminating space
     * @param metadata the caller's part, without the terminating NUL
     * @param payload  {@code source\0target}, at most {@link #MAX_PAYLOAD} bytes
     */
    record RawEvalQuery(byte[] header, byte[] metadata, byte[] payload) {
    }

    private final EvalService service;
    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;

    EvalQueryProtocol(EvalService service, Supplier<Policy> policy, Supplier<SystemInfo> system) {
        this.service = Objects.requireNonNull(service, "service");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
    }

    @Override
    public String name() {
        return service.serviceName();
    }

    @Override
    public byte[] answer(RequestInput in, Connection connection) throws IOException, MalformedRequestException {
        return (answer(read(in)) + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Splits the input into header, metadata and payload. */
    static RawEvalQuery read(RequestInput in) throws IOException, MalformedRequestException {
        byte[] header = field(in, (byte) ' ', "qrexec header");
        byte[] metadata = field(in, (byte) 0, "qrexec metadata");
        return new RawEvalQuery(header, metadata, in.take(in.require(MAX_PAYLOAD)));
    }

    private static byte[] field(RequestInput in, byte terminator, String what)
            throws IOException, MalformedRequestException {
        int end = in.find(terminator, MAX_FIELD, what);
        if (end < 0) {
            throw new MalformedRequestException("connection ended inside the " + what);
        }
        byte[] bytes = in.take(end);
        in.skip(1);
        return bytes;
    }

    /** The reply line (without newline) for a query, or why there must be none. */
    String answer(RawEvalQuery query) throws MalformedRequestException {
        String header = ascii(query.header(), "service name");
        int plus = header.indexOf('+');
        String invoked = plus < 0 ? header : header.substring(0, plus);
        String queried = plus < 0 ? "" : header.substring(plus + 1);
        String metadata = ascii(query.metadata(), "metadata");
        int space = metadata.indexOf(' ');
        String caller = space < 0 ? metadata : metadata.substring(0, space);
        if (!invoked.equals(service.serviceName())) {
            throw new MalformedRequestException("invoked as " + PolicyRequestParser.quote(invoked) + " by " + caller);
        }
        if (queried.isEmpty() || queried.startsWith("+")) {
            throw new MalformedRequestException(caller + " did not name a service to query");
        }
        byte[] payload = query.payload();
        int nul = indexOf(payload, (byte) 0);
        if (nul < 0) {
            throw new MalformedRequestException(caller + " sent no NUL between source and target");
        }
        int sourceLength = nul;
        int targetLength = payload.length - nul - 1;
        if (targetLength < 1 || targetLength > 63) {
            throw new MalformedRequestException(caller + " sent a target of length " + targetLength + ", the limit is 63");
        }
        if (sourceLength < 1 || sourceLength > 31) {
            throw new MalformedRequestException(caller + " sent a source of length " + sourceLength + ", the limit is 31");
        }
        String source = qubeName(payload, 0, sourceLength, caller);
        String target = qubeName(payload, nul + 1, targetLength, caller);
        SystemInfo info = system.get();
        if (service.guiCheck()) {
            String tag = "guivm-" + caller;
            for (String qube : new String[] {source, target}) {
                QubeInfo q = info.get(qube);
                if (q == null || !q.tags().contains(tag)) {
                    throw new MalformedRequestException(caller + " does not provide the GUI of " + qube);
                }
            }
        }
        PolicyRequest request = PolicyRequest.ofServiceAndArgument(queried, source, target)
                .withMode(EvaluationMode.JUST_EVALUATE_ASSUME_YES);
        DaemonReply reply = DaemonReply.render(request, policy.get().evaluate(request, info), info);
        return reply.isPending() ? DaemonReply.DENY : reply.text();
    }

    private static String ascii(byte[] bytes, String what) throws MalformedRequestException {
        for (byte b : bytes) {
            if (b < 0) {
                throw new MalformedRequestException("non-ASCII " + what);
            }
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** A qube name as qrexec-daemon sanitises them: only {@code [A-Za-z0-9@_.-]}. */
    private static String qubeName(byte[] bytes, int from, int length, String caller) throws MalformedRequestException {
        for (int i = from; i < from + length; i++) {
            byte b = bytes[i];
            boolean ok = b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
                    || b == '@' || b == '_' || b == '-' || b == '.';
            if (!ok) {
                throw new MalformedRequestException("invalid data from qube " + caller);
            }
        }
        return new String(bytes, from, length, StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
