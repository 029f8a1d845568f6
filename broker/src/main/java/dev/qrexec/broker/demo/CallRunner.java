package dev.qrexec.broker.demo;

import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.dispvm.event.DispvmEvent;
import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Makes real calls from a qube, as {@code qrexec-client-vm} inside it would: the client talks to
 * the qube's agent on its trigger socket and listens for the data connection in the qube's channel
 * directory; the agent forwards the trigger to the broker. Calls are made one at a time, so the
 * disposable delivered between a call's start and end is that call's.
 *
 * <p>The decision and rule of a row are the engine's, evaluated on the same policy directory and
 * the same system info as the broker's (the broker itself answers only allow or deny on the wire).
 */
public final class CallRunner implements AutoCloseable {

    private final DemoSystem system;
    private final Policy policy;
    private final BlockingQueue<DispvmEvent> delivered = new ArrayBlockingQueue<>(256);
    private final AutoCloseable subscription;

    public CallRunner(DemoSystem system) throws PolicyLoadException {
        this.system = system;
        this.policy = PolicyLoader.load(PolicyLocation.of(system.layout().policyDir()));
        this.subscription = system.manager().subscribe(e -> {
            if (e.kind() == DispvmEvent.Kind.DISPOSABLE_DELIVERED) {
                delivered.offer(e);
            }
        });
    }

    /** What one call gave back. */
    public record Result(CallRow row, byte[] stdout, String stderr) {
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }
    }

    /**
     * Calls {@code serviceAndArg} on {@code target} from {@code source} with {@code input} on stdin.
     *
     * @param label how the row names the call (e.g. the URL opened)
     */
    public Result call(String source, String target, String serviceAndArg, byte[] input, String label)
            throws InterruptedException {
        delivered.clear();
        Decision decision = policy.evaluate(PolicyRequest.ofServiceAndArgument(serviceAndArg, source, target),
                SystemInfo.fromJson(system.manager().systemInfo().tree()));
        FirstByte out = new FirstByte();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = {"--agent-socket=" + system.triggerSocket(source), target, serviceAndArg};
        Map<String, String> env = Map.of("VCHAN_DOMAIN", Integer.toString(system.address(source).domainId()),
                "VCHAN_SOCKET_DIR", system.layout().channelDir(source).toString());
        long t0 = System.nanoTime();
        out.start = t0;
        int exit = QrexecClientVm.execute(env, new ByteArrayInputStream(input), out,
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        long t1 = System.nanoTime();
        String dvm = "-";
        String origin = "-";
        if (target.startsWith("@dispvm") && exit != 126) {
            DispvmEvent e = delivered.poll(5, TimeUnit.SECONDS);
            if (e != null) {
                dvm = e.qube();
                origin = e.detail().startsWith("preloaded") ? "preloaded" : "cold";
            }
        }
        String kind = decision instanceof Decision.Allow ? "allow" : decision instanceof Decision.Ask ? "ask" : "deny";
        String rule = decision.rule().map(r -> r.location().toString()).orElse("-");
        CallRow row = new CallRow(label, target, kind, rule, dvm, origin,
                out.first < 0 ? -1 : (out.first - t0) / 1e6, (t1 - t0) / 1e6, exit);
        return new Result(row, out.bytes.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws Exception {
        subscription.close();
    }

    /** Keeps stdout and the time its first byte arrived. */
    private static final class FirstByte extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long start;
        long first = -1;

        @Override
        public void write(int b) {
            mark();
            bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (len > 0) {
                mark();
            }
            bytes.write(b, off, len);
        }

        private void mark() {
            if (first < 0) {
                first = System.nanoTime();
            }
        }
    }
}
