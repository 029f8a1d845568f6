package dev.qrexec.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the reference crashes (spec 5, 10), we deny quietly (no notification), say why in
 * {@link Decision.Deny#referenceCrash()}, and the daemon answers {@code result=deny}. One test per
 * divergence documented in docs/architecture/policy-core.md.
 */
class DivergenceTest {

    private static final SystemInfo SYSTEM = Fixtures.qubesTests();

    @TempDir
    Path dir;

    private Decision.Deny crash(String policyText, PolicyRequest request, String pythonException) throws Exception {
        Policy policy = Fixtures.policy(dir, policyText);
        Decision d = policy.evaluate(request, SYSTEM);
        Decision.Deny deny = assertInstanceOf(Decision.Deny.class, d);
        assertTrue(deny.isReferenceCrash(), deny.toString());
        assertTrue(deny.referenceCrash().startsWith(pythonException + ": "), deny.referenceCrash());
        assertEquals(false, deny.notifyUser());
        assertEquals(DaemonReply.DENY, DaemonReply.render(request, d, SYSTEM).text());
        return deny;
    }

    @Test
    void dispvmTemplateRuleAgainstBareDispvmFromSourceWithoutDefaultDispvm() throws Exception {
        Decision.Deny deny = crash("* * @anyvm @dispvm:default-dvm allow\n",
                PolicyRequest.of("s", "+", "test-no-dvm", "@dispvm"), "AttributeError");
        assertEquals("f.policy:1", deny.decidingRule().location().toString()); // the rule being compared
    }

    @Test
    void askExpansionOfUnknownDispvmTemplate() throws Exception {
        crash("* * @anyvm @anyvm ask\n* * @anyvm @dispvm:no-such-vm allow\n",
                PolicyRequest.of("s", "+", "test-vm1", "test-vm2"), "KeyError");
    }

    @Test
    void askCandidatesForAnUnknownSource() throws Exception {
        Decision.Deny deny = crash("* * @anyvm @anyvm ask\n", PolicyRequest.of("s", "+", "no-such-vm", "test-vm2"),
                "KeyError");
        assertEquals("f.policy:1", deny.decidingRule().location().toString());
    }

    @Test
    void askWithUnknownTargetAndAutostartNo() throws Exception {
        crash("* * @anyvm @anyvm ask target=no-such-vm autostart=no\n",
                PolicyRequest.of("s", "+", "test-vm1", "test-vm2"), "AssertionError");
    }

    @Test
    void dispvmTagRuleWhenDefaultDispvmIsUnknown() throws Exception {
        SystemInfo system = SystemInfo.fromJson("{\"domains\": {\"a\": {\"default_dispvm\": \"gone\", \"uuid\": \"1\","
                + " \"tags\": [], \"type\": \"AppVM\"}}}");
        Policy policy = Fixtures.policy(dir, "* * @anyvm @dispvm:@tag:t allow\n");
        Decision d = policy.evaluate(PolicyRequest.of("s", "+", "a", "@dispvm"), system);
        assertTrue(d instanceof Decision.Deny deny && deny.referenceCrash().startsWith("KeyError"), d.toString());
    }

    @Test
    void askTargetDispvmAcceptedWithAssumeYesIsDeniedNotCrashed() throws Exception {
        // engine result is an ask for [@dispvm]; the reference crashes rendering the accepted choice
        Policy policy = Fixtures.policy(dir, "* * @anyvm @anyvm ask target=@dispvm\n");
        PolicyRequest request = PolicyRequest.of("s", "+", "test-vm1", "@dispvm")
                .withMode(EvaluationMode.ASSUME_YES_FOR_ASK);
        Decision d = policy.evaluate(request, SYSTEM);
        assertEquals(java.util.List.of("@dispvm"), assertInstanceOf(Decision.Ask.class, d).targets());
        assertEquals(DaemonReply.DENY, DaemonReply.render(request, d, SYSTEM).text());
    }

    @Test
    void denyNotificationForUnknownSourceStillAnswersDeny() throws Exception {
        // the reference crashes looking up the unknown source's guivm; the engine result is unchanged
        Policy policy = Fixtures.policy(dir, "* * @anyvm @anyvm deny\n");
        PolicyRequest request = PolicyRequest.of("s", "+", "no-such-vm", "test-vm1");
        Decision d = policy.evaluate(request, SYSTEM);
        assertEquals(Decision.Deny.of("denied by policy f.policy:1", true, policy.rules().get(0)), d);
        assertEquals(DaemonReply.DENY, DaemonReply.render(request, d, SYSTEM).text());
    }

    @Test
    void dispvmTemplateAsSourceNeverMatches() throws Exception {
        Policy policy = Fixtures.policy(dir, "* * @dispvm:default-dvm @anyvm allow\n* * @dispvm:@tag:t @anyvm allow\n");
        Decision d = policy.evaluate(PolicyRequest.of("s", "+", "@dispvm:default-dvm", "test-vm1"), SYSTEM);
        assertEquals("no matching rule found", assertInstanceOf(Decision.Deny.class, d).message());
    }
}
