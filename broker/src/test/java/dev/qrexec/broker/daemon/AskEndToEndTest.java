package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.daemon.ask.PromptCommand;
import dev.qrexec.broker.server.BrokerServer;
import dev.qrexec.policy.system.SystemInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An ask from a qube's trigger to the broker's answer, through real sockets: the agent's control
 * channel, the policy with an ask rule, dom0's prompt socket and the {@code ./qrexec prompt} tool
 * answering as a user would.
 */
@Timeout(60)
class AskEndToEndTest {

    private static final SystemInfo SYSTEM = SystemInfo.fromJson("""
            {"domains": {
              "dom0": {"type": "AdminVM", "tags": [], "template_for_dispvms": false, "default_dispvm": null,
                       "power_state": "Running", "uuid": "00000000-0000-0000-0000-000000000000", "icon": "adminvm-black"},
              "vm44": {"type": "AppVM", "tags": [], "template_for_dispvms": false, "default_dispvm": null,
                       "power_state": "Running", "guivm": "dom0", "uuid": "c9024a97-9b15-46cc-8341-38d75d5d421b",
                       "icon": "appvm-blue"}
            }}""");

    private Path dir;
    private FakeAgent vm;
    private BrokerServer server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "qa");
        Path policy = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(policy.resolve("10-ask.policy"), "test.Ask * vm44 dom0 ask\n");
        vm = new FakeAgent("vm44", 44, Files.createDirectories(dir.resolve("ch")));
        server = BrokerServer.builder().policyDir(policy).systemInfo(() -> SYSTEM).socketDir(dir.resolve("s"))
                .servePolicySocket(false)
                .dom0Services(Dom0Services.none().register("test.Ask", (call, in, out) -> 0))
                .askTimeout(Duration.ofSeconds(20))
                .qube(vm.address())
                .start();
        vm.handshake(4);
    }

    @AfterEach
    void stop() throws Exception {
        vm.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Runs {@code ./qrexec prompt} with {@code typed} as the user's keystrokes. */
    private CompletableFuture<Integer> promptTool(String typed, ByteArrayOutputStream screen) {
        PrintStream out = new PrintStream(screen, true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> tool = new CompletableFuture<>();
        Thread user = new Thread(() -> tool.complete(PromptCommand.execute(
                new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)), out, out,
                "--socket", dir.resolve("s").resolve(BrokerServer.PROMPT_SOCKET).toString())), "prompt-tool");
        user.setDaemon(true);
        user.start();
        await().atMost(Duration.ofSeconds(10)).until(server.promptHub()::hasAgent);
        return tool;
    }

    @Test
    void theUsersChoiceAllowsTheCall() throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        CompletableFuture<Integer> tool = promptTool("1\n", screen);
        vm.trigger("dom0", "ASK1", "test.Ask+x");
        RawPeer.Frame f = vm.control().read();
        assertEquals(RawPeer.SERVICE_CONNECT, f.type(), "allowed after the user chose dom0: " + f);
        String shown = screen.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("vm44 wants to call test.Ask+x"), shown);
        assertTrue(shown.contains("1) dom0"), shown);
        server.close();
        assertEquals(0, tool.get(10, TimeUnit.SECONDS));
    }

    @Test
    void theUsersNoRefusesTheCall() throws Exception {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        promptTool("n\n", screen);
        long t0 = System.nanoTime();
        vm.trigger("dom0", "ASK2", "test.Ask");
        assertEquals(RawPeer.SERVICE_REFUSED, vm.control().read().type());
        assertTrue(screen.toString(StandardCharsets.UTF_8).contains("vm44 wants to call test.Ask"));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "the user's no, not the 20 s ask timeout");
    }

    @Test
    void withNoPromptAgentTheAskIsRefusedAtOnce() throws Exception {
        long t0 = System.nanoTime();
        vm.trigger("dom0", "ASK3", "test.Ask");
        assertEquals(RawPeer.SERVICE_REFUSED, vm.control().read().type());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "not after the 20 s ask timeout");
    }
}
