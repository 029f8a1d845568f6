package dev.qrexec.policy.daemon;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.reply.AskPrompt;
import dev.qrexec.policy.reply.Notification;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Spec 5.8 in normal mode: the ask put to the prompter, its answers, notifications, timeout. */
class AskingResponderTest {

    private static final SystemInfo SYSTEM = SystemInfo.fromJson(Fixtures.SYSTEM_JSON);
    private static final String ALLOW_TO_VAULT = "user=DEFAULT\nresult=allow\ntarget=vault\ntarget_uuid=uuid:"
            + Fixtures.VAULT_UUID + "\nautostart=True\nrequested_target=vault";

    @TempDir
    Path dir;

    private final List<AskPrompt> asked = new CopyOnWriteArrayList<>();
    private final List<Notification> notified = new CopyOnWriteArrayList<>();
    private final List<CompletableFuture<String>> pending = new CopyOnWriteArrayList<>();

    private AskingResponder responder(String policyText, Duration timeout) throws Exception {
        Policy policy = dev.qrexec.policy.Fixtures.policy(dir, policyText);
        return AskingResponder.builder(() -> policy, () -> SYSTEM)
                .prompter(prompt -> {
                    asked.add(prompt);
                    CompletableFuture<String> f = new CompletableFuture<>();
                    pending.add(f);
                    return f;
                })
                .notifier(notified::add)
                .askTimeout(timeout)
                .build();
    }

    private static SocketRequest request(String source, String target, String service) {
        return new SocketRequest(source, target, service, "", false, false);
    }

    @Test
    void anAskWaitsForTheUserAndAnAllowOfACandidateIsAnAllowToIt() throws Exception {
        AskingResponder r = responder("qubes.Filecopy * work @anyvm ask default_target=vault\n", Duration.ofMinutes(1));
        CompletableFuture<String> reply = r.replyAsync(request("work", "vault", "qubes.Filecopy+x"));
        assertFalse(reply.isDone(), "no answer before the user chose");
        assertEquals(1, asked.size());
        AskPrompt prompt = asked.get(0);
        assertEquals("dom0", prompt.guivm());
        assertEquals("work", prompt.params().get("source"));
        assertEquals("qubes.Filecopy", prompt.params().get("service"));
        assertEquals("+x", prompt.params().get("argument"));
        assertEquals("vault", prompt.params().get("default_target"));
        assertTrue(((List<?>) prompt.params().get("targets")).contains("vault"));
        pending.get(0).complete("allow:vault");
        assertEquals(ALLOW_TO_VAULT, reply.get(1, TimeUnit.SECONDS));
        assertEquals(List.of(), notified, "the rule does not ask to notify an allow");
    }

    @Test
    void theUsersDenyIsADenialThatNotifiesAsTheRuleSays() throws Exception {
        AskingResponder quiet = responder("* * work @anyvm ask\n", Duration.ofMinutes(1));
        CompletableFuture<String> first = quiet.replyAsync(request("work", "vault", "test.A"));
        pending.get(0).complete("deny\n");
        assertEquals("result=deny", first.get(1, TimeUnit.SECONDS));
        assertEquals(List.of(), notified, "ask notifies only with notify=yes");

        AskingResponder loud = responder("* * work @anyvm ask notify=yes\n", Duration.ofMinutes(1));
        CompletableFuture<String> second = loud.replyAsync(request("work", "vault", "test.A"));
        pending.get(1).complete("deny");
        assertEquals("result=deny", second.get(1, TimeUnit.SECONDS));
        assertEquals(List.of(new Notification("dom0", "deny", "test.A", "+", "work", "vault")), notified);
    }

    @Test
    void aChoiceOutsideTheCandidatesAndAnInvalidAnswerAreDenialsThatNotify() throws Exception {
        AskingResponder r = responder("* * work vault ask\n", Duration.ofMinutes(1));
        CompletableFuture<String> notListed = r.replyAsync(request("work", "vault", "test.B"));
        pending.get(0).complete("allow:default-dvm");
        assertEquals("result=deny", notListed.get(1, TimeUnit.SECONDS));
        CompletableFuture<String> garbage = r.replyAsync(request("work", "vault", "test.B"));
        pending.get(1).complete("yes please");
        assertEquals("result=deny", garbage.get(1, TimeUnit.SECONDS));
        assertEquals(2, notified.size());
        assertTrue(notified.stream().allMatch(n -> n.resolution().equals("deny") && n.target().equals("vault")));
    }

    @Test
    void noAnswerWithinTheTimeoutIsADenialAndThePrompterSeesItsFutureEnd() throws Exception {
        AskingResponder r = responder("* * work vault ask\n", Duration.ofMillis(50));
        CompletableFuture<String> reply = r.replyAsync(request("work", "vault", "test.C"));
        assertEquals("result=deny", reply.get(5, TimeUnit.SECONDS));
        assertTrue(pending.get(0).isCompletedExceptionally(), "the prompt can withdraw the question");
        // A late answer changes nothing.
        assertFalse(pending.get(0).complete("allow:vault"));
    }

    @Test
    void aFailingPrompterIsADenialAndNoPrompterAtAllDeniesAtOnce() throws Exception {
        Policy policy = dev.qrexec.policy.Fixtures.policy(dir, "* * work vault ask\n");
        AskingResponder failing = AskingResponder.builder(() -> policy, () -> SYSTEM)
                .prompter(prompt -> { throw new IllegalStateException("no prompt agent connected"); })
                .build();
        assertEquals("result=deny", failing.replyAsync(request("work", "vault", "test.D")).get(1, TimeUnit.SECONDS));
        AskingResponder none = AskingResponder.builder(() -> policy, () -> SYSTEM).build();
        CompletableFuture<String> reply = none.replyAsync(request("work", "vault", "test.D"));
        assertTrue(reply.isDone());
        assertEquals("result=deny", reply.get());
    }

    @Test
    void aSourceWithoutGuivmIsDeniedWithoutAsking() throws Exception {
        AskingResponder r = responder("* * dom0 vault ask\n", Duration.ofMinutes(1));
        CompletableFuture<String> reply = r.replyAsync(request("dom0", "vault", "test.E"));
        assertEquals("result=deny", reply.get(1, TimeUnit.SECONDS));
        assertEquals(List.of(), asked);
    }

    @Test
    void denyAndAllowWithNotifyNotifyOnEveryCallEvenWhenTheReplyIsRemembered() throws Exception {
        AskingResponder r = responder("test.Deny * work vault deny\ntest.Allow * work vault allow notify=yes\n"
                + "test.Quiet * work vault deny notify=no\n", Duration.ofMinutes(1));
        for (int i = 0; i < 2; i++) {
            assertEquals("result=deny", r.replyAsync(request("work", "vault", "test.Deny")).get());
            assertEquals(ALLOW_TO_VAULT, r.replyAsync(request("work", "vault", "test.Allow")).get());
            assertEquals("result=deny", r.replyAsync(request("work", "vault", "test.Quiet")).get());
        }
        assertEquals(List.of(new Notification("dom0", "deny", "test.Deny", "+", "work", "vault"),
                new Notification("dom0", "allow", "test.Allow", "+", "work", "vault"),
                new Notification("dom0", "deny", "test.Deny", "+", "work", "vault"),
                new Notification("dom0", "allow", "test.Allow", "+", "work", "vault")), notified);
    }

    @Test
    void justEvaluateNeverAsksNorNotifies() throws Exception {
        AskingResponder r = responder("* * work vault ask\ntest.Deny * work vault deny\n", Duration.ofMinutes(1));
        assertEquals("result=deny", r.replyAsync(new SocketRequest("work", "vault", "test.F", "", false, true)).get());
        assertEquals("result=deny", r.replyAsync(new SocketRequest("work", "vault", "test.Deny", "", false, true)).get());
        assertEquals(List.of(), asked);
        assertEquals(List.of(), notified);
    }

    @Test
    void theBuilderRejectsAZeroTimeoutWithAPreciseMessage() throws Exception {
        var b = AskingResponder.builder(() -> null, () -> SYSTEM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.askTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("askTimeout must be at least 1 ms"), e.getMessage());
    }
}
