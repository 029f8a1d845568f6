package dev.qrexec.policy.daemon;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** policy.EvalSimple and policy.EvalGUI (spec 7.2): decoder, handler, and over a real socket. */
class EvalQueryTest {

    @TempDir
    static Path tmp;
    private static Policy policy;
    private static SystemInfo system;

    @BeforeAll
    static void load() throws Exception {
        write(tmp.resolve("d/30-user.policy"), String.join("\n",
                "qubes.Filecopy * work vault allow",
                "qubes.ClipboardPaste * @anyvm @anyvm ask",
                "* * @anyvm @anyvm deny", ""));
        policy = PolicyLoader.load(new PolicyLocation(List.of(tmp.resolve("d")), tmp.resolve("none")));
        // work and vault are shown by the GUI qube "sys-gui"; disp123 is not.
        system = SystemInfo.fromJson("""
                {"domains": {
                  "dom0": {"type": "AdminVM", "tags": [], "uuid": "00000000-0000-0000-0000-000000000000"},
                  "work": {"type": "AppVM", "tags": ["guivm-sys-gui"], "power_state": "Running",
                           "uuid": "c9024a97-9b15-46cc-8341-38d75d5d421b"},
                  "vault": {"type": "AppVM", "tags": ["guivm-sys-gui"], "power_state": "Halted",
                            "uuid": "%s"},
                  "disp123": {"type": "DispVM", "tags": [], "power_state": "Running",
                              "uuid": "7b1f6d0e-1111-4c3c-ad5c-454500303ea4"}
                }}
                """.formatted(Fixtures.VAULT_UUID));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The reply to a query delivered in pieces, or null if the connection is closed without one. */
    private static String reply(EvalService service, String wire, boolean endInput) {
        EvalQueryProtocol protocol = new EvalQueryProtocol(service, () -> policy, () -> system);
        try {
            return new String(protocol.answer(ChunkedInput.of(wire, 7), new Connection(null, 0)), StandardCharsets.US_ASCII);
        } catch (MalformedRequestException e) {
            return null;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void readSplitsHeaderMetadataAndPayload() throws Exception {
        EvalQueryProtocol.RawEvalQuery q = EvalQueryProtocol.read(ChunkedInput.of(
                "policy.EvalSimple+qubes.Filecopy sys-gui keyword adminvm\0work\0vault", 5));
        assertArrayEquals(bytes("policy.EvalSimple+qubes.Filecopy"), q.header());
        assertArrayEquals(bytes("sys-gui keyword adminvm"), q.metadata());
        assertArrayEquals(bytes("work\0vault"), q.payload());
    }

    @Test
    void readStopsAt96PayloadBytes() throws Exception {
        ChunkedInput source = new ChunkedInput("policy.EvalSimple+s c\0" + "x".repeat(200), 1);
        EvalQueryProtocol.RawEvalQuery q = EvalQueryProtocol.read(new RequestInput(64).reset(source));
        assertEquals(96, q.payload().length);
        assertEquals(104, source.unread(), "the rest is never read");
    }

    @Test
    void readFailsWhenInputEndsInsideTheHeader() {
        MalformedRequestException e = assertThrows(MalformedRequestException.class,
                () -> EvalQueryProtocol.read(ChunkedInput.of("policy.EvalSimple+s caller", 4)));
        assertEquals("connection ended inside the qrexec metadata", e.getMessage());
    }

    @Test
    void readFailsOnAHeaderBeyondTheLimit() {
        MalformedRequestException e = assertThrows(MalformedRequestException.class,
                () -> EvalQueryProtocol.read(ChunkedInput.of("p".repeat(EvalQueryProtocol.MAX_FIELD + 1), 4096)));
        assertEquals("qrexec header longer than 65536 bytes", e.getMessage());
    }

    @Test
    void specCaseAllowsAndDenies() {
        assertEquals("result=allow\n", reply(EvalService.SIMPLE, "policy.EvalSimple+qubes.Filecopy dom0\0work\0vault", true));
        assertEquals("result=deny\n", reply(EvalService.SIMPLE, "policy.EvalSimple+qubes.Filecopy dom0\0vault\0work", true));
        // ask with assume-yes: allowed only when the intended target is itself a candidate
        assertEquals("result=allow\n", reply(EvalService.SIMPLE, "policy.EvalSimple+qubes.ClipboardPaste dom0\0work\0vault", true));
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "policy.EvalGUI+qubes.Filecopy dom0\\0work\\0vault            | another service's name",
        "policy.EvalSimple dom0\\0work\\0vault                        | no queried service",
        "policy.EvalSimple+ dom0\\0work\\0vault                       | empty queried service",
        "policy.EvalSimple++x dom0\\0work\\0vault                     | queried service starting with +",
        "policy.EvalSimple+qubes.Filecopy dom0\\0workvault            | no NUL in the payload",
        "policy.EvalSimple+qubes.Filecopy dom0\\0\\0vault             | empty source",
        "policy.EvalSimple+qubes.Filecopy dom0\\0work\\0              | empty target",
        "policy.EvalSimple+qubes.Filecopy dom0\\0abcdefghijabcdefghijabcdefghijab\\0vault | 32-byte source",
        "policy.EvalSimple+qubes.Filecopy dom0\\0work\\0@dispvm:default-dvm | ':' in the target",
        "policy.EvalSimple+qubes.Filecopy dom0\\0wo rk\\0vault        | space in the source",
    })
    void malformedQueriesAreClosedWithoutReply(String wire, String why) {
        assertNull(reply(EvalService.SIMPLE, wire.replace("\\0", "\0"), true), why);
    }

    @Test
    void targetOf63BytesIsAccepted() {
        assertEquals("result=deny\n", reply(EvalService.SIMPLE,
                "policy.EvalSimple+qubes.Filecopy dom0\0work\0" + "t".repeat(63), true));
    }

    @Test
    void evalGuiNeedsTheCallerToBeTheGuiQubeOfBoth() {
        assertEquals("result=allow\n", reply(EvalService.GUI, "policy.EvalGUI+qubes.Filecopy sys-gui\0work\0vault", true));
        assertNull(reply(EvalService.GUI, "policy.EvalGUI+qubes.Filecopy other-gui\0work\0vault", true));
        assertNull(reply(EvalService.GUI, "policy.EvalGUI+qubes.Filecopy sys-gui\0work\0disp123", true));
        assertNull(reply(EvalService.GUI, "policy.EvalSimple+qubes.Filecopy sys-gui\0work\0vault", true));
    }

    @Test
    void overARealSocket() throws IOException {
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(tmp.resolve("eval.sock"))
                .evalService(EvalService.SIMPLE, () -> policy, () -> system)
                .start()) {
            assertEquals("result=allow\n", UnixClient.exchange(server.path(),
                    "policy.EvalSimple+qubes.Filecopy dom0\0work\0vault", true));
            assertEquals("", UnixClient.exchange(server.path(),
                    "policy.EvalSimple+qubes.Filecopy dom0\0work\0@dispvm:x", true));
        }
        // No system info (qubesd down): the connection closes without a reply, the server goes on.
        try (PolicySocketServer server = PolicySocketServer.builder()
                .socket(tmp.resolve("eval2.sock"))
                .evalService(EvalService.SIMPLE, () -> policy, () -> {
                    throw new IllegalStateException("no system info yet");
                })
                .start()) {
            for (int i = 0; i < 3; i++) {
                assertEquals("", UnixClient.exchange(server.path(), "policy.EvalSimple+qubes.Filecopy dom0\0work\0vault", true));
            }
        }
        var both = PolicySocketServer.builder().socket(tmp.resolve("x.sock")).responder(r -> "")
                .evalService(EvalService.GUI, () -> policy, () -> system);
        assertEquals("more than one of responder, asyncResponder and evalService set; a socket serves one",
                assertThrows(IllegalStateException.class, both::start).getMessage());
    }
}
