package dev.qrexec.broker.client;

import dev.qrexec.broker.agent.ExitCodes;
import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.ExecCommand;
import dev.qrexec.broker.wire.ExecParamsReply;
import dev.qrexec.broker.wire.HandshakeCompleted;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * {@code qrexec-client -d VM [-l LOCAL] [-e] [-E] [--socket-dir=DIR] [-t|-T] "USER:COMMAND"}: runs
 * a command or {@code QUBESRPC} service in a qube from dom0 through the daemon's local socket
 * {@code qrexec.<VM>} (channel C, spec 4.3 and 6.4). Exit status: the remote exit code (0 with
 * {@code -E}); 125 on qrexec failure; 2 for usage errors. With {@code -e} the command is started
 * detached (JUST_EXEC) and the tool exits once the daemon accepted it.
 */
public final class QrexecClient {

    static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

    private QrexecClient() {
    }

    record Options(String vm, Path socketDir, Path vchanDir, int ownDomain, String localCommand, boolean justExec,
                   boolean exitZero, boolean filterStdout, boolean filterStderr, byte[] prefix, String commandLine) {
    }

    public static int execute(String... args) {
        return execute(System.getenv(), System.in, System.out, System.err, args);
    }

    public static int execute(Map<String, String> env, InputStream in, OutputStream out, PrintStream err,
                              String... args) {
        Options o;
        try {
            o = parse(env, args);
        } catch (IllegalArgumentException e) {
            err.println("qrexec-client: " + e.getMessage());
            usage(err);
            return 2;
        }
        if (o == null) {
            usage(err);
            return 0;
        }
        try {
            int code = run(o, in, out, err);
            return o.exitZero() && code != ExitCodes.PROBLEM ? 0 : code;
        } catch (DataCall.SetupException e) {
            err.println("qrexec-client: " + e.getMessage());
            return ExitCodes.PROBLEM;
        } catch (IOException e) {
            err.println("qrexec-client: " + e.getMessage());
            return ExitCodes.PROBLEM;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.PROBLEM;
        }
    }

    static Options parse(Map<String, String> env, String... args) {
        String vm = null;
        Path socketDir = Path.of(env.getOrDefault("QREXEC_SOCKET_DIR", "/var/run/qubes"));
        String local = null;
        boolean justExec = false;
        boolean exitZero = false;
        boolean filterOut = false;
        boolean filterErr = false;
        byte[] prefix = new byte[0];
        String command = null;
        Path vchanDir = Path.of(env.getOrDefault("VCHAN_SOCKET_DIR", "/var/run/vchan"));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "-d" -> vm = value(args, ++i, "-d");
                case "-l" -> local = value(args, ++i, "-l");
                case "-e" -> justExec = true;
                case "-E" -> exitZero = true;
                case "-t" -> filterOut = true;
                case "-T" -> filterErr = true;
                default -> {
                    if (a.startsWith("--socket-dir=")) {
                        socketDir = Path.of(a.substring("--socket-dir=".length()));
                    } else if (a.startsWith("--vchan-dir=")) {
                        vchanDir = Path.of(a.substring("--vchan-dir=".length()));
                    } else if (a.startsWith("--prefix-data=")) {
                        prefix = a.substring("--prefix-data=".length()).getBytes(StandardCharsets.UTF_8);
                    } else if (a.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + a);
                    } else if (command == null) {
                        command = a;
                    } else {
                        throw new IllegalArgumentException("one command line only, got also '" + a + "'");
                    }
                }
            }
        }
        if (vm == null || vm.isEmpty()) {
            throw new IllegalArgumentException("-d VM is required");
        }
        if (command == null || command.indexOf(':') <= 0) {
            throw new IllegalArgumentException("a command line 'USER:COMMAND' is required");
        }
        if (vm.contains("/")) {
            throw new IllegalArgumentException("invalid qube name " + vm);
        }
        if (vm.equals("dom0")) {
            throw new IllegalArgumentException("calls to dom0 itself are not supported by this client");
        }
        if (justExec && local != null) {
            throw new IllegalArgumentException("-e and -l cannot be combined");
        }
        int own;
        try {
            own = Integer.parseInt(env.getOrDefault("VCHAN_DOMAIN", "0"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("VCHAN_DOMAIN is not a number");
        }
        return new Options(vm, socketDir, vchanDir, own, local, justExec, exitZero, filterOut, filterErr, prefix,
                command);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    static int run(Options o, InputStream in, OutputStream out, PrintStream err)
            throws DataCall.SetupException, IOException, InterruptedException {
        try (DataCall call = new DataCall(o.vchanDir(), true)) {
            Promise<ExecParamsReply> reply = call.group().next().newPromise();
            ExecCommand request = o.justExec() ? ExecCommand.justExec(o.ownDomain(), 0, o.commandLine())
                    : ExecCommand.exec(o.ownDomain(), 0, o.commandLine());
            Path socket = o.socketDir().resolve("qrexec." + o.vm());
            Bootstrap b = new Bootstrap().group(call.group()).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            WirePipeline.install(ch, ChannelRole.LOCAL_CLIENT);
                            ch.pipeline().addLast(new LocalSocketHandler(request, reply));
                        }
                    });
            var connect = b.connect(new DomainSocketAddress(socket.toString()));
            if (!connect.await(SETUP_TIMEOUT.toMillis()) || !connect.isSuccess()) {
                throw new DataCall.SetupException("cannot connect to the daemon at " + socket, connect.cause());
            }
            Channel daemon = connect.channel();
            try {
                ExecParamsReply params = DataCall.await(reply, SETUP_TIMEOUT, "daemon did not accept the command");
                if (o.justExec()) {
                    return 0;
                }
                LocalProgram local = o.localCommand() == null ? null : LocalProgram.shell(o.localCommand());
                InputStream source = local == null ? in : local.stdout();
                OutputStream sink = local == null
                        ? LocalProgram.unclosable(o.filterStdout() ? new EscapeFilter(out) : out) : local.stdin();
                OutputStream errSink = LocalProgram.unclosable(o.filterStderr() ? new EscapeFilter(err) : err);
                int code = call.run(o.ownDomain(), params.connectDomain(), params.connectPort(), source, sink, errSink,
                        o.prefix(), SETUP_TIMEOUT);
                if (local != null) {
                    local.destroy();
                }
                return code;
            } finally {
                daemon.close();
            }
        }
    }

    /** Local socket: after the daemon's HELLO, send the command and wait for its 8-byte answer. */
    private static final class LocalSocketHandler extends ChannelInboundHandlerAdapter {
        private final ExecCommand request;
        private final Promise<ExecParamsReply> reply;

        LocalSocketHandler(ExecCommand request, Promise<ExecParamsReply> reply) {
            this.request = request;
            this.reply = reply;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof HandshakeCompleted) {
                ctx.writeAndFlush(request).addListener(f -> {
                    if (!f.isSuccess()) {
                        reply.tryFailure(f.cause());
                    }
                });
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ExecParamsReply p && p.type() == request.type()) {
                reply.trySuccess(p);
            } else {
                ReferenceCountUtil.release(msg);
                reply.tryFailure(new IOException("unexpected answer from the daemon: " + msg));
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            reply.tryFailure(new IOException("the daemon closed the connection (request refused?)"));
            ctx.fireChannelInactive();
        }
    }

    private static void usage(PrintStream err) {
        err.println("usage: qrexec-client -d VM [-l LOCAL_COMMAND] [-e] [-E] [-t] [-T] [--socket-dir=DIR]");
        err.println("                     [--vchan-dir=DIR] [--prefix-data=DATA] USER:COMMAND");
        err.println("  USER:QUBESRPC svc+arg source   calls a service; DEFAULT: uses the daemon's default user");
        err.println("env: QREXEC_SOCKET_DIR (default /var/run/qubes), VCHAN_SOCKET_DIR, VCHAN_DOMAIN (default 0)");
    }
}
