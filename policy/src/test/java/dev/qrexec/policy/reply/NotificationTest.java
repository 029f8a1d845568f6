package dev.qrexec.policy.reply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.EvaluationMode;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec 5.8: who is notified of what, and the ask prompt's payload. */
class NotificationTest {

    private static final SystemInfo DESKTOP = Fixtures.desktop();

    @TempDir
    Path dir;

    private Optional<Notification> notification(String policyText, PolicyRequest request) throws Exception {
        Policy policy = Fixtures.policy(dir, policyText);
        return Notification.forDecision(request, policy.evaluate(request, DESKTOP), DESKTOP);
    }

    @Test
    void denialsNotifyWithTheIntendedTargetAsGiven() throws Exception {
        Notification n = notification("* * @anyvm @anyvm deny\n", PolicyRequest.of("s", "+a", "work", "no-such-vm"))
                .orElseThrow();
        assertEquals(new Notification("dom0", "deny", "s", "+a", "work", "no-such-vm"), n);
        assertEquals(List.of("resolution", "service", "argument", "source", "target"), List.copyOf(n.params().keySet()));
    }

    @Test
    void whoIsNotNotified() throws Exception {
        PolicyRequest request = PolicyRequest.of("s", "+", "work", "vault");
        assertTrue(notification("* * @anyvm @anyvm deny notify=no\n", request).isEmpty());
        assertTrue(notification("* * @anyvm @anyvm deny\n", request.withMode(EvaluationMode.JUST_EVALUATE)).isEmpty());
        assertTrue(notification("* * @anyvm @anyvm deny\n", PolicyRequest.of("s", "+", "media", "vault")).isEmpty(),
                "media has no guivm");
        assertTrue(notification("* * @anyvm @anyvm deny\n", PolicyRequest.of("s", "+", "work", "@tag:x")).isEmpty(),
                "invalid request token");
        assertTrue(notification("* * @anyvm @anyvm allow\n", request).isEmpty(), "allow notifies only with notify=yes");
    }

    @Test
    void allowWithNotifyNamesTheResolvedTarget() throws Exception {
        Notification n = notification("* * @anyvm @dispvm allow notify=yes\n", PolicyRequest.of("s", "+", "work", "@dispvm"))
                .orElseThrow();
        assertEquals("@dispvm:default-dvm", n.target());
        assertEquals("allow", n.resolution());
    }

    @Test
    void askPromptCarriesCandidatesDefaultAndIcons() throws Exception {
        Policy policy = Fixtures.policy(dir, "* * work @anyvm ask default_target=vault\n");
        PolicyRequest request = PolicyRequest.of("s", "+", "work", "vault");
        Decision.Ask ask = (Decision.Ask) policy.evaluate(request, DESKTOP);
        AskPrompt prompt = AskPrompt.of(request, ask, DESKTOP);
        assertEquals("dom0", prompt.guivm());
        assertEquals("vault", prompt.params().get("default_target"));
        assertEquals(ask.targets(), prompt.params().get("targets"));
        Map<?, ?> icons = (Map<?, ?>) prompt.params().get("icons");
        assertEquals("appvm-red", icons.get("default-dvm"));
        assertEquals("dispvm-red", icons.get("@dispvm:default-dvm"));
        assertNull(AskPrompt.of(PolicyRequest.of("s", "+", "media", "vault"), ask, DESKTOP).guivm());
    }
}
