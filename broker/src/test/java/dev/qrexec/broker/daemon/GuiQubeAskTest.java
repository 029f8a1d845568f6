package dev.qrexec.broker.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.broker.daemon.dom0.Dom0Services;
import dev.qrexec.broker.server.BrokerServer;
import dev.qrexec.policy.system.SystemInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A source whose GUI qube is a qube: the broker calls {@code policy.Ask} / {@code policy.Notify}
 * in it as qrexec-client does (EXEC_CMDLINE to its agent, JSON on the call's stdin, the answer on
 * its stdout), over real sockets; the fake GUI qube's agent plays the service.
 */
@Timeout(60)
class GuiQubeAskTest {

    private static final SystemInfo SYSTEM = SystemInfo.fromJson("""
            {"domains": {
              "dom0": {"type": "AdminVM", "tags": [], "template_for_dispvms": false, "default_dispvm": null,
                       "power_state": "Running", "uuid": "00000000-0000-0000-0000-000000000000", "icon": "adminvm-black"},
              "vm44": {"type": "AppVM", "tags": [], "template_for_dispvms": false, "default_dispvm": null,
                       "power_state": "Running", "guivm": "gui45", "uuid": "c9024a97-9b15-46cc-8341-38d75d5d421b",
                       "icon": "appvm-blue"},
              "gui45": {"type": "AppVM", "tags": [], "template_for_dispvms": false, "default_dispvm": null,
                        "power_state": "Running", "guivm": "dom0", "uuid": "d9024a97-9b15-46cc-8341-38d75d5d421c",
                        "icon": "appvm-green"}
            }}""");

    private Path dir;
    private FakeAgent vm;
    private FakeAgent gui;
    private BrokerServer server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "qg");
        Path policy = Files.createDirectories(dir.resolve("policy"));
        Files.writeString(policy.resolve("10-ask.policy"), "test.Ask * vm44 dom0 ask\ntest.Deny * vm44 dom0 deny\n");
        vm = new FakeAgent("vm44", 44, Files.createDirectories(dir.resolve("c44")));
        gui = new FakeAgent("gui45", 45, Files.createDirectories(dir.resolve("c45")));
        server = BrokerServer.builder().policyDir(policy).systemInfo(() -> SYSTEM).socketDir(dir.resolve("s"))
                .servePolicySocket(false)
                .dom0Services(Dom0Services.none().register("test.Ask", (call, in, out) -> 0))
                .askTimeout(Duration.ofSeconds(20))
                .qube(vm.address()).qube(gui.address())
                .start();
        vm.handshake(4);
        gui.handshake(4);
    }

    @AfterEach
    void stop() throws Exception {
        vm.close();
        gui.close();
        server.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The GUI qube's agent runs the service the broker asked for: returns its stdin, answers {@code reply}. */
    private JsonNode serve(String expectedService, String reply, int exit) throws Exception {
        RawPeer.Frame exec = gui.control().expect(RawPeer.EXEC_CMDLINE);
        assertEquals(0, exec.intAt(0), "the broker (dom0) listens");
        assertEquals("user:QUBESRPC " + expectedService + "+ dom0", FakeAgent.cstring(exec.body(), 8));
        try (RawPeer data = gui.serviceConnect(exec.intAt(4), 4)) {
            ByteArrayOutputStream stdin = new ByteArrayOutputStream();
            for (RawPeer.Frame f = data.expect(RawPeer.STDIN); f.body().length > 0; f = data.expect(RawPeer.STDIN)) {
                stdin.writeBytes(f.body());
            }
            data.send(RawPeer.STDOUT, reply.getBytes(StandardCharsets.UTF_8));
            data.send(RawPeer.STDOUT, new byte[0]);
            data.send(RawPeer.STDERR, new byte[0]);
            data.send(RawPeer.EXIT_CODE, RawPeer.le(exit));
            return new ObjectMapper().readTree(stdin.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void theGuiQubesAllowAllowsTheCall() throws Exception {
        vm.trigger("dom0", "ASK1", "test.Ask+x");
        JsonNode question = serve("policy.Ask", "allow:dom0", 0);
        assertEquals("vm44", question.path("source").asText());
        assertEquals("test.Ask", question.path("service").asText());
        assertEquals("+x", question.path("argument").asText());
        assertEquals("dom0", question.path("targets").path(0).asText());
        assertEquals("appvm-blue", question.path("icons").path("vm44").asText());
        assertEquals(RawPeer.SERVICE_CONNECT, vm.control().read().type());
        assertNoLeftoverSocket();
    }

    @Test
    void aFailingPromptInTheGuiQubeRefusesTheCallAndTheDenialIsNotified() throws Exception {
        vm.trigger("dom0", "ASK2", "test.Ask");
        serve("policy.Ask", "", 1);
        assertEquals(RawPeer.SERVICE_REFUSED, vm.control().read().type());
        JsonNode notice = serve("policy.Notify", "", 0);
        assertEquals("deny", notice.path("resolution").asText());
        assertEquals("vm44", notice.path("source").asText());
    }

    @Test
    void aDenyRuleNotifiesTheGuiQube() throws Exception {
        vm.trigger("dom0", "DENY", "test.Deny");
        assertEquals(RawPeer.SERVICE_REFUSED, vm.control().read().type());
        JsonNode notice = serve("policy.Notify", "", 0);
        assertEquals("deny", notice.path("resolution").asText());
        assertEquals("test.Deny", notice.path("service").asText());
        assertEquals("dom0", notice.path("target").asText());
    }

    /** qrexec-client removed the socket it listened on in the GUI qube's channel directory. */
    private void assertNoLeftoverSocket() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve("c45"))) {
            assertEquals(0, files.filter(p -> p.getFileName().toString().matches("vchan\\.0\\.45\\.\\d+\\.sock")).count());
        }
    }
}
