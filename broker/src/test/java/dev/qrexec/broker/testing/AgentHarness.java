package dev.qrexec.broker.testing;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.JavaService;
import dev.qrexec.broker.agent.UserMode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

/**
 * Starts a real {@link Agent} in a temporary directory, as the upstream tests start qrexec-agent:
 * domain 44, services in {@code <dir>/rpc}, configs in {@code <dir>/rpc-config}.
 */
public final class AgentHarness implements AutoCloseable {

    public static final int DOMAIN = 44;

    public final Path dir;
    public final Path rpc;
    public final Path rpcConfig;
    public final AgentState state;
    public final Agent agent;

    public AgentHarness(Path dir, Map<String, JavaService> javaServices) throws IOException {
        this(dir, javaServices, Duration.ofSeconds(5));
    }

    public AgentHarness(Path dir, Map<String, JavaService> javaServices, Duration dataConnectTimeout)
            throws IOException {
        this.dir = dir;
        this.rpc = Files.createDirectories(dir.resolve("rpc"));
        this.rpcConfig = Files.createDirectories(dir.resolve("rpc-config"));
        this.state = new AgentState("vm44");
        this.agent = Agent.start(AgentConfig.builder()
                .vchanDir(dir)
                .domain(DOMAIN)
                .qubeName("vm44")
                .triggerSocket(dir.resolve("agent.sock"))
                .servicePath(rpc.toString())
                .configPath(rpcConfig.toString())
                .javaServices(javaServices)
                .userMode(UserMode.SELF)
                .dataConnectTimeout(dataConnectTimeout)
                .sessionTimeout(Duration.ofSeconds(5))
                .build(), state);
    }

    /** Writes an executable shell script service. */
    public Path service(String name, String script) throws IOException {
        Path p = rpc.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** Connects as the daemon and does the HELLO exchange (agent first, spec 3). */
    public RawPeer daemon() throws Exception {
        RawPeer d = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5));
        RawPeer.Frame hello = d.expect(RawPeer.HELLO);
        if (hello.intAt(0) != 4) {
            throw new AssertionError("agent HELLO version " + hello.intAt(0));
        }
        d.sendHello(4);
        return d;
    }

    /** The data socket the broker listens on for a call to this agent from {@code domain}. */
    public Path dataSocket(int domain, int port) {
        return dir.resolve("vchan." + domain + "." + DOMAIN + "." + port + ".sock");
    }

    public static void exec(RawPeer daemon, int type, int domain, int port, String cmdline) throws IOException {
        daemon.send(type, RawPeer.concat(RawPeer.le(domain, port), RawPeer.cstr(cmdline)));
    }

    /** Output of one call: stdout and stderr bytes, the exit code, and whether each stream saw EOF. */
    public record Result(byte[] stdout, byte[] stderr, int exit, boolean stdoutEof, boolean stderrEof) {
        public String out() {
            return new String(stdout, java.nio.charset.StandardCharsets.UTF_8);
        }

        public String err() {
            return new String(stderr, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Reads a service's frames up to its exit code, checking the EOF rules of spec 5.2. */
    public static Result collect(RawPeer data) throws InterruptedException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        boolean outEof = false;
        boolean errEof = false;
        while (true) {
            RawPeer.Frame f = data.read();
            switch (f.type()) {
                case RawPeer.DATA_STDOUT -> {
                    if (outEof) {
                        throw new AssertionError("STDOUT after its EOF");
                    }
                    outEof = f.body().length == 0;
                    out.writeBytes(f.body());
                }
                case RawPeer.DATA_STDERR -> {
                    if (errEof) {
                        throw new AssertionError("STDERR after its EOF");
                    }
                    errEof = f.body().length == 0;
                    err.writeBytes(f.body());
                }
                case RawPeer.DATA_EXIT_CODE -> {
                    if (f.body().length != 4) {
                        throw new AssertionError("EXIT_CODE body of " + f.body().length + " bytes");
                    }
                    return new Result(out.toByteArray(), err.toByteArray(), f.intAt(0), outEof, errEof);
                }
                default -> throw new AssertionError("unexpected " + f);
            }
        }
    }

    /**
     * Runs one dom0→qube call as the broker does (listen first, then EXEC_CMDLINE on {@code daemon}),
     * sends {@code stdin} and its EOF, and returns the data peer.
     */
    public RawPeer call(RawPeer daemon, int port, String cmdline, byte[] stdin) throws Exception {
        try (RawPeer.Listener l = new RawPeer.Listener(dataSocket(0, port))) {
            exec(daemon, RawPeer.EXEC_CMDLINE, 0, port, cmdline);
            RawPeer data = l.accept();
            data.sendHello(4);
            if (data.expect(RawPeer.HELLO).intAt(0) != 4) {
                throw new AssertionError("agent data HELLO is not version 4");
            }
            try {
                if (stdin.length > 0) {
                    data.send(RawPeer.DATA_STDIN, stdin);
                }
                data.send(RawPeer.DATA_STDIN, new byte[0]);
            } catch (java.io.IOException e) {
                // A service that fails to start hangs up at once; its frames are still readable.
            }
            return data;
        }
    }

    @Override
    public void close() {
        agent.close();
    }
}
