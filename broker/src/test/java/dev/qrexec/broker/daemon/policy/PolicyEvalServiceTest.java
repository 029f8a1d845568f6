package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.dom0.ServiceCall;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class PolicyEvalServiceTest {

    private static final String SYSTEM = """
            {"domains": {
              "dom0": {"tags": [], "type": "AdminVM", "uuid": "00000000-0000-0000-0000-000000000000"},
              "work": {"tags": ["guivm-sys-gui"], "type": "AppVM", "uuid": "11111111-1111-1111-1111-111111111111",
                       "power_state": "Running"},
              "vault": {"tags": ["guivm-sys-gui"], "type": "AppVM", "uuid": "22222222-2222-2222-2222-222222222222",
                        "power_state": "Running"},
              "other": {"tags": [], "type": "AppVM", "uuid": "33333333-3333-3333-3333-333333333333",
                        "power_state": "Running"}
            }}""";

    private EngineResponder responder;
    private SystemInfo system;

    @BeforeEach
    void load(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("30-test.policy"), """
                qubes.ClipboardPaste * work vault ask
                qubes.ClipboardPaste * work other allow
                * * @anyvm @anyvm deny
                """);
        Policy policy = PolicyLoader.load(PolicyLocation.of(dir));
        system = SystemInfo.fromJson(SYSTEM);
        responder = new EngineResponder(() -> policy, () -> system);
    }

    private String ask(PolicyEvalService s, String service, String caller, String query, String input) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = s.run(new ServiceCall(service, query, caller, "dom0", false),
                new ByteArrayInputStream(input.getBytes(StandardCharsets.US_ASCII)), out);
        return code + ":" + out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void evalSimpleAnswersWithAssumeYesForAsk() throws Exception {
        PolicyEvalService s = PolicyEvalService.simple(responder, () -> system);
        assertEquals("0:result=allow\n", ask(s, "policy.EvalSimple", "sys-gui", "qubes.ClipboardPaste", "work\0vault"));
        assertEquals("0:result=allow\n", ask(s, "policy.EvalSimple", "sys-gui", "qubes.ClipboardPaste", "work\0other"));
        assertEquals("0:result=deny\n", ask(s, "policy.EvalSimple", "sys-gui", "qubes.ClipboardPaste", "vault\0work"));
    }

    @Test
    void evalGuiNeedsTheCallersTagOnBothQubes() throws Exception {
        PolicyEvalService s = PolicyEvalService.gui(responder, () -> system);
        assertEquals("0:result=allow\n", ask(s, "policy.EvalGUI", "sys-gui", "qubes.ClipboardPaste", "work\0vault"));
        assertEquals("1:", ask(s, "policy.EvalGUI", "sys-gui", "qubes.ClipboardPaste", "work\0other"));
        assertEquals("1:", ask(s, "policy.EvalGUI", "other-gui", "qubes.ClipboardPaste", "work\0vault"));
    }

    @Test
    void malformedQuestionsGetNoAnswer() throws Exception {
        PolicyEvalService s = PolicyEvalService.simple(responder, () -> system);
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "", "work\0vault"));
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "+x", "work\0vault"));
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "svc", "workvault"));
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "svc", "work\0@dispvm:x"));
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "svc", "a".repeat(32) + "\0vault"));
        assertEquals("1:", ask(s, "policy.EvalSimple", "gui", "svc", "w\0" + "v".repeat(100)));
    }
}
