package dev.qrexec.broker.services;

import dev.qrexec.broker.testing.AgentHarness;
import dev.qrexec.broker.testing.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The template's Java services, called through a real agent with raw frames. */
class DefaultServicesTest {

    @TempDir
    Path tmp;
    AgentHarness h;
    RawPeer daemon;
    final List<String> opened = new CopyOnWriteArrayList<>();
    final List<Path> files = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        UrlOpener urls = (url, caller) -> {
            opened.add(caller + " " + url);
            return 0;
        };
        // Edits files whose name says so, to exercise the write-back.
        FileOpener editor = (file, viewOnly) -> {
            files.add(file);
            if (file.getFileName().toString().startsWith("edit")) {
                Files.writeString(file, "edited");
            }
            return 0;
        };
        h = new AgentHarness(tmp, DefaultServices.template(urls, editor, tmp.resolve("open")));
        h.state.markSessionReady();
        daemon = h.daemon();
    }

    @AfterEach
    void stop() throws Exception {
        daemon.close();
        h.close();
    }

    AgentHarness.Result call(int port, String cmd, byte[] stdin) throws Exception {
        try (RawPeer data = h.call(daemon, port, cmd, stdin)) {
            return AgentHarness.collect(data);
        }
    }

    @Test
    void openUrlAcceptsOnlyWebSchemes() throws Exception {
        assertEquals(0, call(601, "user:QUBESRPC qubes.OpenURL+ work", "https://example.org/a?b=c\n".getBytes()).exit());
        assertEquals(List.of("work https://example.org/a?b=c"), opened);
        for (String bad : List.of("file:///etc/passwd\n", "javascript:alert(1)\n", "http://\n",
                "https://exa mple.org\n", "\n")) {
            AgentHarness.Result r = call(602 + opened.size(), "user:QUBESRPC qubes.OpenURL+ work", bad.getBytes());
            assertEquals(1, r.exit(), bad);
            assertEquals("Invalid URL\n", r.err());
        }
        assertEquals(1, opened.size());
    }

    @Test
    void openInVmSavesOpensAndReturnsEditedFile() throws Exception {
        byte[] header = Arrays.copyOf("edit-me.txt".getBytes(StandardCharsets.UTF_8), 256);
        byte[] in = RawPeer.concat(header, "original".getBytes());
        AgentHarness.Result r = call(610, "user:QUBESRPC qubes.OpenInVM work", in);
        assertEquals(0, r.exit());
        assertEquals("edited", r.out());
        assertEquals(tmp.resolve("open/work/edit-me.txt"), files.get(0));

        byte[] same = RawPeer.concat(Arrays.copyOf("notes.txt".getBytes(), 256), "keep".getBytes());
        AgentHarness.Result unchanged = call(611, "user:QUBESRPC qubes.OpenInVM work", same);
        assertEquals(0, unchanged.exit());
        assertEquals(0, unchanged.stdout().length, "an unmodified file is not sent back");
    }

    @Test
    void openInVmViewOnlyNeverSendsBackAndHostileNamesFail() throws Exception {
        byte[] view = RawPeer.concat(Arrays.copyOf("view-only-edit.txt".getBytes(), 256), "x".getBytes());
        AgentHarness.Result r = call(620, "user:QUBESRPC qubes.OpenInVM work", view);
        assertEquals(0, r.exit());
        assertEquals(0, r.stdout().length);
        assertTrue(Files.exists(tmp.resolve("open/work/edit.txt")));

        for (String name : List.of("../escape", "a/b", "..", "")) {
            byte[] in = RawPeer.concat(Arrays.copyOf(name.getBytes(), 256), "x".getBytes());
            assertEquals(1, call(621 + name.length(), "user:QUBESRPC qubes.OpenInVM work", in).exit(), name);
        }
        byte[] noNul = new byte[256];
        Arrays.fill(noNul, (byte) 'a');
        assertEquals(1, call(630, "user:QUBESRPC qubes.OpenInVM work", noNul).exit());
        assertEquals(1, call(631, "user:QUBESRPC qubes.OpenInVM work", "short".getBytes()).exit());
        assertFalse(Files.exists(tmp.resolve("escape")));
    }

    @Test
    void openInVmDoesNotFollowAPlantedSymlink() throws Exception {
        Path victim = Files.writeString(tmp.resolve("victim"), "secret");
        Path dir = Files.createDirectories(tmp.resolve("open/work"));
        Files.createSymbolicLink(dir.resolve("planted.txt"), victim);
        byte[] in = RawPeer.concat(Arrays.copyOf("planted.txt".getBytes(), 256), "overwritten".getBytes());
        assertEquals(1, call(680, "user:QUBESRPC qubes.OpenInVM work", in).exit());
        assertEquals("secret", Files.readString(victim));
    }

    @Test
    void testServicesEchoExitCodeAndEnv() throws Exception {
        assertEquals("ping", call(640, "user:QUBESRPC test.Echo vm1", "ping".getBytes()).out());
        assertEquals(42, call(641, "user:QUBESRPC test.ExitCode+42 vm1", new byte[0]).exit());
        assertEquals(125, call(642, "user:QUBESRPC test.ExitCode+x vm1", new byte[0]).exit());
        String env = call(643, "user:QUBESRPC test.Env+a vm1 name work", new byte[0]).out();
        assertTrue(env.contains("QREXEC_REQUESTED_TARGET=work\n"), env);
        assertTrue(env.contains("QREXEC_SERVICE_ARGUMENT=a\n"), env);
    }

    @Test
    void fileInServicePathOverridesJavaService() throws Exception {
        h.service("test.Echo", "echo from-script");
        assertEquals("from-script\n", call(650, "user:QUBESRPC test.Echo vm1", "ping".getBytes()).out());
    }

    @Test
    void waitServicesAndReleaseMemory() throws Exception {
        assertEquals(0, call(660, "user:QUBESRPC qubes.WaitForRunningSystem dom0", new byte[0]).exit());
        assertEquals(0, call(661, "user:QUBESRPC qubes.WaitForSession dom0", new byte[0]).exit());
        AgentHarness.Result r = call(662, "user:QUBESRPC qubes.ReleaseMemory dom0", new byte[0]);
        assertEquals(0, r.exit());
        assertTrue(r.out().matches("(?s)heap-used-before=\\d+\nheap-used-after=\\d+\n.*"), r.out());
    }

    @Test
    void bigTransferThroughEchoKeepsEveryByte() throws Exception {
        byte[] payload = new byte[8 * 1024 * 1024 + 17];
        new java.util.Random(1).nextBytes(payload);
        try (RawPeer.Listener l = new RawPeer.Listener(h.dataSocket(0, 670))) {
            AgentHarness.exec(daemon, RawPeer.EXEC_CMDLINE, 0, 670, "user:QUBESRPC test.Echo vm1");
            try (RawPeer data = l.accept()) {
                data.sendHello(4);
                data.expect(RawPeer.HELLO);
                Thread sender = new Thread(() -> {
                    try {
                        for (int off = 0; off < payload.length; off += 65536) {
                            data.send(RawPeer.DATA_STDIN, Arrays.copyOfRange(payload, off,
                                    Math.min(payload.length, off + 65536)));
                        }
                        data.send(RawPeer.DATA_STDIN, new byte[0]);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                sender.start();
                AgentHarness.Result r = AgentHarness.collect(data);
                assertEquals(0, r.exit());
                assertArrayEquals(payload, r.stdout());
                sender.join();
            }
        }
    }
}
