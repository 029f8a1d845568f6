package dev.qrexec.policy.reply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.explain.Explanation;
import dev.qrexec.policy.explain.RuleVerdict;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec 5.7/5.8 renderings, the extra daemon-level cases of spec 8.3, and explain. */
class DaemonReplyTest {

    private static final SystemInfo DESKTOP = Fixtures.desktop();
    private static final SystemInfo TESTS = Fixtures.qubesTests();

    @TempDir
    Path dir;

    private String reply(String policyText, PolicyRequest request, SystemInfo system) throws Exception {
        Policy policy = Fixtures.policy(dir, policyText);
        DaemonReply r = DaemonReply.render(request, policy.evaluate(request, system), system);
        return r.isPending() ? null : r.text();
    }

    @Test
    void allowToAQube() throws Exception {
        assertEquals("user=DEFAULT\nresult=allow\ntarget=vault\ntarget_uuid=uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a03"
                        + "\nautostart=True\nrequested_target=vault",
                reply("qubes.Filecopy * work vault allow\n",
                        PolicyRequest.ofServiceAndArgument("qubes.Filecopy+x", "work", "vault"), DESKTOP));
    }

    @Test
    void allowToDom0HasNoUuid() throws Exception {
        assertEquals("user=DEFAULT\nresult=allow\ntarget=dom0\nautostart=True\nrequested_target=@adminvm",
                reply("test.Dom0 * work @adminvm allow\n",
                        PolicyRequest.ofServiceAndArgument("test.Dom0", "work", "@adminvm"), DESKTOP));
    }

    @Test
    void allowToDisposable() throws Exception {
        assertEquals("user=DEFAULT\nresult=allow\ntarget=@dispvm:default-dvm\n"
                        + "target_uuid=@dispvm:uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a06\nautostart=True\nrequested_target=@dispvm",
                reply("* * @anyvm @dispvm allow\n", PolicyRequest.of("a", "+", "work", "@dispvm"), DESKTOP));
    }

    @Test
    void remoteTargetGoesThroughItsRelay() throws Exception {
        assertEquals("user=DEFAULT\nresult=allow\ntarget=sys-net\ntarget_uuid=uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a05"
                        + "\nautostart=True\nrequested_target=remote-1\nservice=qubesair.SSHProxy+remote-1+test.Svc+arg",
                reply("* * work remote-1 allow user=root\n", PolicyRequest.of("test.Svc", "+arg", "work", "remote-1"),
                        DESKTOP));
    }

    @Test
    void remoteTargetWithoutTransportIsDenied() throws Exception {
        assertEquals(DaemonReply.DENY, reply("* * test-vm1 test2-remotevm1 allow\n",
                PolicyRequest.of("a", "+", "test-vm1", "test2-remotevm1"), TESTS));
    }

    @Test
    void requestedSourceBecomesTheSourceAndIsReported() throws Exception {
        PolicyRequest request = PolicyRequest.of("a", "+", "test-relayvm1", "test-vm1").withRequestedSource("test-remotevm1");
        String text = reply("* * test-remotevm1 test-vm1 allow\n", request, TESTS);
        assertTrue(text.endsWith("\nrequested_target=test-vm1\npolicy_source=test-remotevm1"), text);
        Policy policy = Fixtures.policy(dir, "* * @anyvm @anyvm allow\n");
        Decision bad = policy.evaluate(PolicyRequest.of("a", "+", "test-vm1", "test-vm2")
                .withRequestedSource("test-remotevm1"), TESTS);
        assertEquals("test-vm1 is not a relay for test-remotevm1", ((Decision.Deny) bad).message());
        Decision notRemote = policy.evaluate(PolicyRequest.of("a", "+", "test-vm1", "test-vm2")
                .withRequestedSource("test-vm3"), TESTS);
        assertEquals("test-vm3: requested source is only authorized for RemoteVM", ((Decision.Deny) notRemote).message());
    }

    @Test
    void loopbackIsAnEngineAllowButADaemonDeny() throws Exception {
        assertEquals(DaemonReply.DENY, reply("* * @anyvm @anyvm allow\n", PolicyRequest.of("a", "+", "work", "work"),
                DESKTOP));
    }

    @Test
    void modes() throws Exception {
        String ask = "test.Arg * work @anyvm ask\n";
        PolicyRequest request = PolicyRequest.of("test.Arg", "+bar", "work", "vault");
        assertEquals(null, reply(ask, request, DESKTOP));
        assertEquals(DaemonReply.DENY, reply(ask, request.withMode(EvaluationMode.JUST_EVALUATE), DESKTOP));
        assertTrue(reply(ask, request.withMode(EvaluationMode.ASSUME_YES_FOR_ASK), DESKTOP).contains("target=vault"));
        assertEquals(DaemonReply.ALLOW, reply(ask, request.withMode(EvaluationMode.JUST_EVALUATE_ASSUME_YES), DESKTOP));
        assertEquals(DaemonReply.ALLOW, reply("* * work vault allow\n", request.withMode(EvaluationMode.JUST_EVALUATE),
                DESKTOP));
        // @default is never a candidate, so assume-yes cannot accept it
        assertEquals(DaemonReply.DENY, reply("qubes.Filecopy * work @default ask default_target=vault\n",
                PolicyRequest.of("qubes.Filecopy", "+", "work", "").withMode(EvaluationMode.ASSUME_YES_FOR_ASK), DESKTOP));
    }

    @Test
    void userAnswers() throws Exception {
        Policy policy = Fixtures.policy(dir, "test.Arg * work @anyvm ask user=root\n");
        PolicyRequest request = PolicyRequest.of("test.Arg", "+", "work", "vault");
        Decision.Ask ask = (Decision.Ask) policy.evaluate(request, DESKTOP);
        assertEquals(DaemonReply.DENY, DaemonReply.afterAnswer(request, ask, null, DESKTOP).text());
        assertEquals(DaemonReply.DENY, DaemonReply.afterAnswer(request, ask, "dom0", DESKTOP).text());
        assertTrue(DaemonReply.afterAnswer(request, ask, "personal", DESKTOP).text()
                .startsWith("user=root\nresult=allow\ntarget=personal\n"));
    }

    @Test
    void explainNamesTheFailingColumnOfEachRule() throws Exception {
        Policy policy = Fixtures.policy(dir, String.join("\n", "other * work vault allow", "svc +x work vault allow",
                "svc * personal vault allow", "svc * work @tag:x allow", "svc * work vault deny", "* * @anyvm @anyvm allow", ""));
        Explanation e = policy.explain(PolicyRequest.of("svc", "+y", "work", "vault"), DESKTOP);
        assertEquals(5, e.verdicts().size());
        assertEquals(RuleVerdict.Column.SERVICE, e.verdicts().get(0).failedColumn());
        assertEquals(RuleVerdict.Column.ARGUMENT, e.verdicts().get(1).failedColumn());
        assertEquals(RuleVerdict.Column.SOURCE, e.verdicts().get(2).failedColumn());
        assertEquals(RuleVerdict.Column.TARGET, e.verdicts().get(3).failedColumn());
        assertTrue(e.verdicts().get(4).matched());
        assertEquals("denied by policy f.policy:5", e.decision().reason());
        assertTrue(e.render().contains("MATCH f.policy:5"), e.render());
    }
}
