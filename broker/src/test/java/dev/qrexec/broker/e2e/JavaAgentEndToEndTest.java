package dev.qrexec.broker.e2e;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.client.QrexecClient;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.daemon.AgentAddress;
import dev.qrexec.broker.daemon.AgentSession;
import dev.qrexec.broker.daemon.BrokerDaemon;
import dev.qrexec.broker.daemon.CallPolicy;
import dev.qrexec.broker.daemon.DaemonConfig;
import dev.qrexec.broker.daemon.DisposableProvider;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.broker.daemon.QubeStarter;
import dev.qrexec.broker.daemon.UnixSocketTransport;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The whole VM-side stack of the broker-agent branch (Java agent, qrexec-client-vm) talking to this
 * broker, each qube in its own socket directory: what a user of the socket transport would run.
 */
@Timeout(60)
class JavaAgentEndToEndTest {

    private Path root;
    private UnixSocketTransport transport;
    private BrokerDaemon daemon;
    private Agent work;
    private Agent vault;

    /** Policy: work may call vault's test.Upper and dom0's test.Date; everything else is denied. */
    private static final CallPolicy POLICY = r -> {
        if (r.source().equals("work") && r.target().equals("vault") && r.service().equals("test.Upper")) {
            return PolicyVerdict.Allow.to("vault");
        }
        if (r.source().equals("work") && r.target().equals("dom0") && r.service().equals("test.Dom0")) {
            return PolicyVerdict.Allow.to("dom0");
        }
        return new PolicyVerdict.Deny("denied by test policy");
    };

    @BeforeEach
    void start() throws Exception {
        root = Files.createTempDirectory(Path.of("/tmp"), "qe");
        work = agent("work", 46);
        vault = agent("vault", 47);
        Path rpc = root.resolve("vault/rpc");
        Path upper = rpc.resolve("test.Upper");
        Files.writeString(upper, "#!/bin/sh\ntr a-z A-Z\necho \"from $QREXEC_REMOTE_DOMAIN\" >&2\nexit 3\n");
        Files.setPosixFilePermissions(upper, PosixFilePermissions.fromString("rwxr-xr-x"));

        transport = UnixSocketTransport.create(2);
        Dom0Services dom0 = Dom0Services.none().register("test.Dom0", (call, in, out) -> {
            out.write(("dom0 saw " + new String(in.readAllBytes(), StandardCharsets.UTF_8)).getBytes());
            return 0;
        });
        daemon = new BrokerDaemon(transport, DaemonConfig.defaults(), POLICY, dom0, QubeStarter.NONE,
                DisposableProvider.NONE);
        AgentSession w = daemon.declare(new AgentAddress("work", 46, root.resolve("work")));
        AgentSession v = daemon.declare(new AgentAddress("vault", 47, root.resolve("vault")));
        await().atMost(Duration.ofSeconds(10)).until(() -> w.state() == AgentSession.State.READY
                && v.state() == AgentSession.State.READY);
    }

    private Agent agent(String name, int domain) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Path rpc = Files.createDirectories(dir.resolve("rpc"));
        Path cfg = Files.createDirectories(dir.resolve("rpc-config"));
        return Agent.start(AgentConfig.builder().vchanDir(dir).domain(domain).qubeName(name)
                .triggerSocket(dir.resolve("agent.sock")).servicePath(rpc.toString()).configPath(cfg.toString())
                .javaServices(Map.of()).userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(5))
                .sessionTimeout(Duration.ofSeconds(5)).build(), new AgentState(name));
    }

    private record Result(int exit, String stdout, String stderr) {
    }

    private Result clientVm(String qube, int domain, String input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] full = new String[args.length + 1];
        full[0] = "--agent-socket=" + root.resolve(qube).resolve("agent.sock");
        System.arraycopy(args, 0, full, 1, args.length);
        int code = QrexecClientVm.execute(Map.of("VCHAN_DOMAIN", String.valueOf(domain),
                        "VCHAN_SOCKET_DIR", root.resolve(qube).toString()),
                new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)), out,
                new PrintStream(err, true, StandardCharsets.UTF_8), full);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @AfterEach
    void stop() throws IOException {
        if (daemon != null) {
            daemon.close();
        }
        if (transport != null) {
            transport.close();
        }
        for (Agent a : new Agent[] {work, vault}) {
            if (a != null) {
                a.close();
            }
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void vmToVmCallThroughTheBroker() {
        Result r = clientVm("work", 46, "hello vault\n", "vault", "test.Upper");
        assertEquals(3, r.exit(), r.stderr());
        assertEquals("HELLO VAULT\n", r.stdout());
        assertTrue(r.stderr().contains("from work"), r.stderr());
        await().until(() -> daemon.session("work").orElseThrow().portsInUse() == 0
                && daemon.session("vault").orElseThrow().portsInUse() == 0);
    }

    @Test
    void vmToDom0CallThroughTheBroker() {
        Result r = clientVm("work", 46, "ping", "dom0", "test.Dom0+x");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals("dom0 saw ping", r.stdout());
    }

    @Test
    void deniedCallExits126() {
        Result r = clientVm("vault", 47, "", "work", "test.Upper");
        assertEquals(126, r.exit());
        assertTrue(r.stderr().contains("Request refused"), r.stderr());
    }

    @Test
    void dom0ToVmWithQrexecClientThroughTheLocalSocket() throws Exception {
        Path sockets = Files.createDirectories(root.resolve("run"));
        daemon.serveLocalSockets(sockets);
        await().until(() -> Files.exists(sockets.resolve("qrexec.vault")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QrexecClient.execute(Map.of("VCHAN_SOCKET_DIR", root.resolve("vault").toString()),
                new ByteArrayInputStream("from dom0\n".getBytes(StandardCharsets.UTF_8)), out,
                new PrintStream(err, true, StandardCharsets.UTF_8),
                "-d", "vault", "--socket-dir=" + sockets, "DEFAULT:QUBESRPC test.Upper dom0");
        assertEquals(3, code, err.toString(StandardCharsets.UTF_8));
        assertEquals("FROM DOM0\n", out.toString(StandardCharsets.UTF_8));
        await().until(() -> daemon.session("vault").orElseThrow().portsInUse() == 0);
    }

    @Test
    void manyCallsInARowLeaveNoPortBehind() {
        for (int i = 0; i < 20; i++) {
            Result r = clientVm("work", 46, "n" + i, "vault", "test.Upper");
            assertEquals("N" + i, r.stdout());
        }
        await().until(() -> daemon.session("work").orElseThrow().portsInUse() == 0
                && daemon.session("work").orElseThrow().callsInFlight() == 0);
    }
}
