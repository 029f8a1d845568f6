package dev.qrexec.broker.daemon.ask;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qrexec.broker.admin.AdminAccess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** The prompt socket with real connections: raw JSON lines, and the {@code ./qrexec prompt} tool. */
@Timeout(30)
class PromptServerTest {

    private Path dir;
    private PromptHub hub;
    private PromptServer server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "qp");
        hub = new PromptHub();
        server = PromptServer.start(dir.resolve("prompt.sock"), hub, AdminAccess.ownerOnly());
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        Files.deleteIfExists(dir);
    }

    private SocketChannel connect() throws Exception {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(server.path()));
        await().atMost(Duration.ofSeconds(5)).until(hub::hasAgent);
        return ch;
    }

    @Test
    void theSocketIsMode0660AndAnAgentAnswersOverJsonLines() throws Exception {
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.path())));
        try (SocketChannel ch = connect()) {
            CompletableFuture<String> answer = hub.ask(PromptHubTest.prompt());
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            JsonNode ask = new ObjectMapper().readTree(in.readLine());
            assertEquals("ask", ask.path("type").asText());
            ch.write(ByteBuffer.wrap(("{\"type\":\"answer\",\"id\":" + ask.path("id").asLong()
                    + ",\"answer\":\"allow:personal\"}\n").getBytes(StandardCharsets.UTF_8)));
            assertEquals("allow:personal", answer.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void aMalformedLineClosesTheConnectionAndItsOpenQuestionsAreDenied() throws Exception {
        try (SocketChannel ch = connect()) {
            CompletableFuture<String> answer = hub.ask(PromptHubTest.prompt());
            ch.write(ByteBuffer.wrap("{\"type\":\"answer\",\"id\":\"x\"}\n".getBytes(StandardCharsets.UTF_8)));
            await().atMost(Duration.ofSeconds(5)).until(answer::isDone);
            assertTrue(answer.isCompletedExceptionally());
            assertFalse(hub.hasAgent());
            ByteBuffer rest = ByteBuffer.allocate(4096);
            while (ch.read(rest.clear()) >= 0) {
                // drain the question line; then the broker's close
            }
        }
    }

    @Test
    void thePromptToolShowsTheQuestionAndSendsTheNumberedChoice() throws Exception {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(shown, true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> tool = new CompletableFuture<>();
        Thread user = new Thread(() -> tool.complete(PromptCommand.execute(
                new ByteArrayInputStream("7\n2\n".getBytes(StandardCharsets.UTF_8)), out, out,
                "--socket", server.path().toString())), "prompt-tool");
        user.setDaemon(true);
        user.start();
        await().atMost(Duration.ofSeconds(10)).until(hub::hasAgent);
        CompletableFuture<String> answer = hub.ask(PromptHubTest.prompt());
        assertEquals("allow:vault", answer.get(10, TimeUnit.SECONDS), "7 is out of range and asked again, 2 is vault");
        String screen = shown.toString(StandardCharsets.UTF_8);
        assertTrue(screen.contains("work wants to call qubes.Filecopy+"), screen);
        assertTrue(screen.contains("1) personal  (default)"), screen);
        assertTrue(screen.contains("2) vault"), screen);
        assertTrue(screen.contains("please answer with a number from 1 to 2"), screen);
        server.close();
        assertEquals(0, tool.get(10, TimeUnit.SECONDS));
    }

    @Test
    void thePromptToolWithoutASocketExits1() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(1, PromptCommand.execute(new ByteArrayInputStream(new byte[0]), p, p,
                "--socket", dir.resolve("nobody.sock").toString()));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot connect"), err.toString(StandardCharsets.UTF_8));
    }
}
