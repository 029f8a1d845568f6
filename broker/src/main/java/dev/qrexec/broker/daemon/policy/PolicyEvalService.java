package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.dom0.Dom0Service;
import dev.qrexec.broker.daemon.dom0.ServiceCall;
import dev.qrexec.policy.daemon.PolicyResponder;
import dev.qrexec.policy.daemon.SocketRequest;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The dom0 services {@code policy.EvalSimple} and {@code policy.EvalGUI} (spec qrexec-policy.md
 * 7.2): "would SOURCE be allowed to call SERVICE on TARGET?", evaluated with the same engine in
 * just-evaluate and assume-yes-for-ask mode. The argument is the queried {@code svc[+arg]}, stdin
 * is {@code SOURCE\0TARGET} (at most 96 bytes); the answer is {@code result=allow\n} or
 * {@code result=deny\n}. EvalGUI also requires both qubes to carry the tag {@code guivm-<caller>}.
 * A malformed question gets no answer (exit 1), as the reference closes the connection.
 */
public final class PolicyEvalService implements Dom0Service {

    private static final Logger LOG = System.getLogger(PolicyEvalService.class.getName());
    private static final int MAX_INPUT = 96;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9@_.-]+");

    private final PolicyResponder responder;
    private final Supplier<SystemInfo> system;
    private final boolean gui;

    private PolicyEvalService(PolicyResponder responder, Supplier<SystemInfo> system, boolean gui) {
        this.responder = Objects.requireNonNull(responder, "responder");
        this.system = Objects.requireNonNull(system, "system");
        this.gui = gui;
    }

    /** {@code policy.EvalSimple}. */
    public static PolicyEvalService simple(PolicyResponder responder, Supplier<SystemInfo> system) {
        return new PolicyEvalService(responder, system, false);
    }

    /** {@code policy.EvalGUI}. */
    public static PolicyEvalService gui(PolicyResponder responder, Supplier<SystemInfo> system) {
        return new PolicyEvalService(responder, system, true);
    }

    @Override
    public int run(ServiceCall call, InputStream stdin, OutputStream stdout) throws IOException {
        String queried = call.argument();
        if (queried.isEmpty() || queried.startsWith("+")) {
            return refuse(call, "queried service '" + queried + "' is empty or starts with '+'");
        }
        byte[] input = stdin.readNBytes(MAX_INPUT + 1);
        if (input.length > MAX_INPUT) {
            return refuse(call, "question longer than " + MAX_INPUT + " bytes");
        }
        String text = new String(input, StandardCharsets.US_ASCII);
        int nul = text.indexOf('\0');
        if (nul < 0) {
            return refuse(call, "question is not SOURCE\\0TARGET");
        }
        String source = text.substring(0, nul);
        String target = text.substring(nul + 1);
        if (!valid(source, 31) || !valid(target, 63)) {
            return refuse(call, "invalid source '" + source + "' or target '" + target + "'");
        }
        if (gui) {
            String tag = "guivm-" + call.source();
            SystemInfo info = system.get();
            if (!hasTag(info.get(source), tag) || !hasTag(info.get(target), tag)) {
                return refuse(call, source + " and " + target + " must both carry the tag " + tag);
            }
        }
        String reply = responder.reply(new SocketRequest(source, target, queried, "", true, true));
        boolean allow = "result=allow".equals(reply.strip());
        stdout.write((allow ? "result=allow\n" : "result=deny\n").getBytes(StandardCharsets.US_ASCII));
        return 0;
    }

    private static boolean valid(String name, int max) {
        return !name.isEmpty() && name.length() <= max && NAME.matcher(name).matches();
    }

    private static boolean hasTag(QubeInfo q, String tag) {
        return q != null && q.tags().contains(tag);
    }

    private static int refuse(ServiceCall call, String why) {
        LOG.log(Level.WARNING, "{0} from {1}: no answer: {2}", call.service(), call.source(), why);
        return 1;
    }
}
