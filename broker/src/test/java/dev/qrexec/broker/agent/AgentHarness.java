package dev.qrexec.broker.agent;

import dev.qrexec.broker.testing.RawPeer;

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
final class AgentHarness implements AutoCloseable {

    static final int DOMAIN = 44;

    final Path dir;
    final Path rpc;
    final Path rpcConfig;
    final AgentState state;
    final Agent agent;

    AgentHarness(Path dir, Map<String, JavaService> javaServices) throws IOException {
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
                .dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5))
                .build(), state);
    }

    /** Writes an executable shell script service. */
    Path service(String name, String script) throws IOException {
        Path p = rpc.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** Connects as the daemon and does the HELLO exchange (agent first, spec 3). */
    RawPeer daemon() throws Exception {
        RawPeer d = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5));
        RawPeer.Frame hello = d.expect(RawPeer.HELLO);
        if (hello.intAt(0) != 4) {
            throw new AssertionError("agent HELLO version " + hello.intAt(0));
        }
        d.sendHello(4);
        return d;
    }

    /** The data socket the broker listens on for a call to this agent from {@code domain}. */
    Path dataSocket(int domain, int port) {
        return dir.resolve("vchan." + domain + "." + DOMAIN + "." + port + ".sock");
    }

    static void exec(RawPeer daemon, int type, int domain, int port, String cmdline) throws IOException {
        daemon.send(type, RawPeer.concat(RawPeer.le(domain, port), RawPeer.cstr(cmdline)));
    }

    @Override
    public void close() {
        agent.close();
    }
}
