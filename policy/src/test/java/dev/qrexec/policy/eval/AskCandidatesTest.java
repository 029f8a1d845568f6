package dev.qrexec.policy.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec 5.5 details beyond the corpus. */
class AskCandidatesTest {

    private static final SystemInfo SYSTEM = SystemInfo.fromJson("{\"domains\": {"
            + "\"dom0\": {\"type\": \"AdminVM\", \"tags\": [], \"uuid\": \"00000000-0000-0000-0000-000000000000\"},"
            + "\"b\": {\"type\": \"AppVM\", \"tags\": [\"t\"], \"uuid\": \"ub\", \"default_dispvm\": \"uuid:ud\"},"
            + "\"a\": {\"type\": \"AppVM\", \"tags\": [\"t\"], \"uuid\": \"ua\", \"default_dispvm\": \"d\"},"
            + "\"d\": {\"type\": \"AppVM\", \"tags\": [\"t\"], \"uuid\": \"ud\", \"template_for_dispvms\": true},"
            + "\"hidden\": {\"type\": \"AppVM\", \"tags\": [\"t\"], \"uuid\": \"uh\", \"internal\": true,"
            + " \"template_for_dispvms\": true}}}");

    @TempDir
    Path dir;

    private List<String> ask(String policyText, String source) throws Exception {
        Policy policy = Fixtures.policy(dir, policyText);
        Decision d = policy.evaluate(PolicyRequest.of("s", "+", source, "@default"), SYSTEM);
        return assertInstanceOf(Decision.Ask.class, d, d.toString()).targets();
    }

    @Test
    void earlierRulesWinPerCandidateAndTheListIsSorted() throws Exception {
        assertEquals(List.of("@dispvm:d", "b", "d", "dom0"),
                ask("* * a @default ask\n* * a @adminvm allow\n* * a hidden deny\n* * a @anyvm allow\n", "a"));
        assertEquals(List.of("@dispvm:d", "b"),
                ask("* * a @default ask\n* * a d deny\n* * a uuid:ub allow\n* * a @dispvm allow\n* * a d allow\n", "a"));
    }

    @Test
    void dispvmResolvesAfterTheWalkSoADenyOfItsTemplateDoesNotRemoveIt() throws Exception {
        assertEquals(List.of("@dispvm:d"), ask("* * a @default ask\n* * a @dispvm:d deny\n* * a @dispvm allow\n", "a"));
    }

    @Test
    void aDefaultDispvmInUuidFormIsOfferedAsWritten() throws Exception {
        assertEquals(List.of("@dispvm:uuid:ud", "a"), ask("* * b @default ask\n* * b @dispvm allow\n* * b a allow\n", "b"));
    }

    @Test
    void theSourceAndInternalQubesAreNeverOffered() throws Exception {
        assertEquals(List.of("@dispvm:d", "b", "d"), ask("* * a @default ask\n* * a @tag:t allow\n* * a @dispvm:@tag:t allow\n",
                "uuid:ua"));
    }
}
