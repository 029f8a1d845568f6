package dev.qrexec.broker.client;

import dev.qrexec.broker.agent.ExitCodes;
import dev.qrexec.broker.wire.RequestId;
import dev.qrexec.broker.wire.Trigger;
import dev.qrexec.broker.wire.WireFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code qrexec-client-vm [options] TARGET SERVICE[+ARG] [LOCAL_PROGRAM [ARGS...]]}: calls a service
 * from inside a qube through the agent's trigger socket (spec 4.2, 5.3). Exit status: the remote
 * exit code if it is non-zero, else the local program's, else 0; 126 if refused; 1 if the data
 * channel cannot be set up; 2 for usage errors.
 */
public final class QrexecClientVm {

    static final Duration ACCEPT_TIMEOUT = Duration.ofSeconds(60);

    private QrexecClientVm() {
    }

    /** Parsed command line. */
    record Options(Path agentSocket, Path vchanDir, int ownDomain, String sourceQube, byte[] prefix,
                   boolean filterStdout, boolean filterStderr, String target, String service, List<String> local) {
    }

    public static int execute(String... args) {
        return execute(System.getenv(), System.in, System.out, System.err, args);
    }

    /** The tool with its environment and streams given, for tests and embedding. */
    public static int execute(Map<String, String> env, InputStream in, OutputStream out, PrintStream err,
                              String... args) {
        Options o;
        try {
            o = parse(env, args);
        } catch (IllegalArgumentException e) {
            err.println("qrexec-client-vm: " + e.getMessage());
            usage(err);
            return 2;
        }
        if (o == null) {
            usage(err);
            return 0;
        }
        return run(o, in, out, err);
    }

    static Options parse(Map<String, String> env, String... args) {
        Path agentSocket = Path.of("/var/run/qubes/qrexec-agent");
        String source = "";
        byte[] prefix = new byte[0];
        boolean filterOut = false;
        boolean filterErr = false;
        int i = 0;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            } else if (a.equals("-h") || a.equals("--help")) {
                return null;
            } else if (a.startsWith("--agent-socket=")) {
                agentSocket = Path.of(a.substring("--agent-socket=".length()));
            } else if (a.startsWith("--source-qube=")) {
                source = a.substring("--source-qube=".length());
            } else if (a.startsWith("--prefix-data=")) {
                prefix = a.substring("--prefix-data=".length()).getBytes(StandardCharsets.UTF_8);
            } else if (a.equals("-t") || a.equals("--filter-escape-chars-stdout")) {
                filterOut = true;
            } else if (a.equals("-T") || a.equals("--filter-escape-chars-stderr")) {
                filterErr = true;
            } else if (a.equals("--no-filter-escape-chars-stdout")) {
                filterOut = false;
            } else if (a.equals("--no-filter-escape-chars-stderr")) {
                filterErr = false;
            } else if (a.startsWith("-") && a.length() > 1) {
                throw new IllegalArgumentException("unknown option " + a);
            } else {
                break;
            }
        }
        if (args.length - i < 2) {
            throw new IllegalArgumentException("TARGET and SERVICE are required");
        }
        String target = args[i].replace('$', '@');
        String service = args[i + 1];
        if (target.isEmpty() || target.length() > 63) {
            throw new IllegalArgumentException("TARGET must be 1 to 63 bytes");
        }
        if (source.length() > 63) {
            throw new IllegalArgumentException("--source-qube must be at most 63 bytes");
        }
        if (service.isEmpty() || service.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("SERVICE must be non-empty");
        }
        List<String> local = new ArrayList<>(List.of(args).subList(i + 2, args.length));
        String domain = env.get("VCHAN_DOMAIN");
        if (domain == null) {
            throw new IllegalArgumentException("VCHAN_DOMAIN is not set (this qube's domain id)");
        }
        int own;
        try {
            own = Integer.parseInt(domain);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("VCHAN_DOMAIN is not a number: " + domain);
        }
        Path vchanDir = Path.of(env.getOrDefault("VCHAN_SOCKET_DIR", "/var/run/vchan"));
        return new Options(agentSocket, vchanDir, own, source, prefix, filterOut, filterErr, target, service, local);
    }

    static int run(Options o, InputStream in, OutputStream out, PrintStream err) {
        try (SocketChannel trigger = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                trigger.connect(UnixDomainSocketAddress.of(o.agentSocket()));
            } catch (IOException e) {
                err.println("qrexec-client-vm: cannot connect to the agent at " + o.agentSocket() + ": " + e.getMessage());
                return 1;
            }
            ByteBuf frame = WireFormat.encode(UnpooledByteBufAllocator.DEFAULT,
                    Trigger.v4(o.sourceQube(), o.target(), RequestId.of("SOCKET"), o.service()));
            try {
                trigger.write(frame.nioBuffer());
            } finally {
                frame.release();
            }
            ByteBuffer params = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (params.hasRemaining()) {
                if (trigger.read(params) < 0) {
                    err.println("Request refused");
                    return ExitCodes.REQUEST_REFUSED;
                }
            }
            params.flip();
            int domain = params.getInt();
            int port = params.getInt();
            // The trigger socket stays open until the call is over: closing it is how the agent
            // learns the call ended (CONNECTION_TERMINATED).
            return relay(o, domain, port, in, out, err);
        } catch (IOException e) {
            err.println("qrexec-client-vm: " + e.getMessage());
            return 1;
        }
    }

    private static int relay(Options o, int domain, int port, InputStream in, OutputStream out, PrintStream err) {
        LocalProgram local = null;
        try (DataCall call = new DataCall(o.vchanDir(), false)) {
            InputStream source = in;
            OutputStream sink = o.filterStdout() ? new EscapeFilter(out) : out;
            if (!o.local().isEmpty()) {
                local = LocalProgram.start(o.local());
                source = local.stdout();
                sink = local.stdin();
            }
            OutputStream errSink = LocalProgram.unclosable(o.filterStderr() ? new EscapeFilter(err) : err);
            int remote = call.run(o.ownDomain(), domain, port, source, LocalProgram.unclosableUnless(sink, local),
                    errSink, o.prefix(), ACCEPT_TIMEOUT);
            if (remote != 0) {
                if (local != null) {
                    local.destroy();
                }
                return remote;
            }
            return local == null ? 0 : local.waitFor();
        } catch (DataCall.SetupException e) {
            err.println("qrexec-client-vm: " + e.getMessage());
            if (local != null) {
                local.destroy();
            }
            return 1;
        } catch (IOException e) {
            err.println("qrexec-client-vm: cannot start local program: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.PROBLEM;
        }
    }

    private static void usage(PrintStream err) {
        err.println("usage: qrexec-client-vm [--agent-socket=PATH] [--source-qube=NAME] [--prefix-data=DATA]");
        err.println("                        [-t|-T] [--] TARGET SERVICE[+ARG] [LOCAL_PROGRAM [ARGS...]]");
        err.println("env: VCHAN_DOMAIN (this qube's id), VCHAN_SOCKET_DIR (default /var/run/vchan)");
    }
}
