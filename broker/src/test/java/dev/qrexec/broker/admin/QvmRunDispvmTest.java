package dev.qrexec.broker.admin;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.services.TestServices;
import dev.qrexec.broker.testing.RawPeer;
import dev.qrexec.dispvm.DispvmManager;
import dev.qrexec.dispvm.preload.PreloadTimings;
import dev.qrexec.dispvm.spi.MemoryReleaser;
import dev.qrexec.dispvm.spi.QubeReadiness;
import dev.qrexec.xen.sim.SimHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code qvm run --dispvm=dvm --service test.ExitCode+7}: CreateDisposable on the real registry,
 * then qrexec-client through the disposable's local socket (the test plays the daemon there, spec
 * 4.3) to a real Java agent, then Kill, which destroys the disposable.
 */
class QvmRunDispvmTest {

    @TempDir
    Path tmp;
    SimHypervisor sim;
    DispvmManager manager;
    AdminServer server;
    Agent agent;
    final CompletableFuture<RawPeer.Listener> localSocket = new CompletableFuture<>();
    final CompletableFuture<String> created = new CompletableFuture<>();

    @BeforeEach
    void start() throws Exception {
        Path sockets = Files.createDirectories(tmp.resolve("s"));
        sim = SimHypervisor.builder().build();
        manager = DispvmManager.builder(sim).storeDir(tmp.resolve("store")).timings(PreloadTimings.immediate())
                .readiness(QubeReadiness.immediate()).memoryReleaser(MemoryReleaser.none()).build();
        AdminBackend real = new DispvmAdminBackend(manager);
        // The daemon's local socket for the new disposable must exist before qvm connects to it.
        AdminBackend backend = (AdminBackend) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {AdminBackend.class}, (proxy, method, args) -> {
                    try {
                        Object result = method.invoke(real, args);
                        if (method.getName().equals("createDisposable")) {
                            localSocket.complete(new RawPeer.Listener(sockets.resolve("qrexec." + result)));
                            created.complete((String) result);
                        }
                        return result;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        server = AdminServer.start(tmp.resolve("admin.sock"), backend, AdminAccess.ownerOnly());
        AdminClient c = new AdminClient(server.path());
        c.call("admin.vm.Create.TemplateVM", "", "dom0", "name=fedora label=black");
        for (String f : new String[] {"qrexec", "supported-rpc.qubes.WaitForRunningSystem",
                "supported-rpc.qubes.WaitForSession"}) {
            c.call("admin.vm.feature.Set", f, "fedora", "1");
        }
        c.call("admin.vm.Create.AppVM", "fedora", "dom0", "name=dvm label=red template_for_dispvms=True");
        Path vchan = Files.createDirectories(tmp.resolve("v"));
        agent = Agent.start(AgentConfig.builder().vchanDir(vchan).domain(44).triggerSocket(vchan.resolve("a.sock"))
                .servicePath(vchan.resolve("rpc").toString()).javaServices(TestServices.all())
                .userMode(UserMode.SELF).build(), new AgentState("disp"));
    }

    @AfterEach
    void stop() throws Exception {
        if (localSocket.isDone()) {
            localSocket.get().close();
        }
        agent.close();
        server.close();
        manager.close();
        sim.close();
    }

    @Test
    void runInANewDisposableAndDestroyIt() throws Exception {
        CompletableFuture<Integer> qvm = CompletableFuture.supplyAsync(() -> QvmCli.execute(
                new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), new PrintStream(new ByteArrayOutputStream()),
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()),
                "--admin-socket=" + server.path(), "run", "--dispvm=dvm", "--service",
                "--socket-dir=" + tmp.resolve("s"), "--vchan-dir=" + tmp.resolve("v"), "test.ExitCode+7"));
        try (RawPeer control = RawPeer.connect(agent.controlPath(), Duration.ofSeconds(5))) {
            control.expect(RawPeer.HELLO);
            control.sendHello(4);
            try (RawPeer daemon = localSocket.get(20, TimeUnit.SECONDS).accept()) {
                daemon.sendHello(3);
                daemon.expect(RawPeer.HELLO);
                RawPeer.Frame req = daemon.expect(RawPeer.EXEC_CMDLINE);
                assertEquals("DEFAULT:QUBESRPC test.ExitCode+7 dom0\0",
                        new String(Arrays.copyOfRange(req.body(), 8, req.body().length)));
                daemon.send(RawPeer.EXEC_CMDLINE, RawPeer.le(44, 513));
                control.send(RawPeer.EXEC_CMDLINE, RawPeer.concat(RawPeer.le(0, 513),
                        RawPeer.cstr("user:QUBESRPC test.ExitCode+7 dom0")));
                control.expect(RawPeer.CONNECTION_TERMINATED);
            }
        }
        assertEquals(7, qvm.get(30, TimeUnit.SECONDS));
        String disp = created.get();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                !new AdminClient(server.path()).call("admin.vm.List", "", "dom0", "").contains(disp + " "));
    }
}
