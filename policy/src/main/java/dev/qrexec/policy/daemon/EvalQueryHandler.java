package dev.qrexec.policy.daemon;

import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.ReadTimeoutException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Answers {@code policy.EvalSimple} / {@code policy.EvalGUI} (spec 7.2): validates the query as the
 * reference does, evaluates it in {@code just_evaluate} + {@code assume_yes_for_ask} mode and
 * writes {@code result=allow\n} or {@code result=deny\n}. Any validation failure closes the
 * connection without a reply (logged with the reason).
 */
@Sharable
public final class EvalQueryHandler extends SimpleChannelInboundHandler<EvalQueryDecoder.RawEvalQuery> {

    private static final System.Logger LOG = System.getLogger(EvalQueryHandler.class.getName());

    private final EvalService service;
    private final Supplier<Policy> policy;
    private final Supplier<SystemInfo> system;

    public EvalQueryHandler(EvalService service, Supplier<Policy> policy, Supplier<SystemInfo> system) {
        this.service = Objects.requireNonNull(service, "service");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.system = Objects.requireNonNull(system, "system");
    }

    /** The qrexec service this handler answers. */
    public String serviceName() {
        return service.serviceName();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, EvalQueryDecoder.RawEvalQuery query) {
        String reply;
        try {
            reply = answer(query);
        } catch (MalformedRequestException e) {
            LOG.log(Level.WARNING, "{0}: closing without reply: {1}", service.serviceName(), e.getMessage());
            ctx.close();
            return;
        }
        ctx.writeAndFlush(ByteBufUtil.writeAscii(ctx.alloc(), reply + "\n")).addListener(ChannelFutureListener.CLOSE);
    }

    /** The reply line (without newline) for a query, or why there must be none. */
    String answer(EvalQueryDecoder.RawEvalQuery query) throws MalformedRequestException {
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

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException || cause instanceof ReadTimeoutException) {
            LOG.log(Level.WARNING, "{0}: closing without reply: {1}", service.serviceName(),
                    cause instanceof ReadTimeoutException ? "read timeout" : cause.getMessage());
        } else {
            LOG.log(Level.WARNING, service.serviceName() + ": connection error; closing", cause);
        }
        ctx.close();
    }
}
