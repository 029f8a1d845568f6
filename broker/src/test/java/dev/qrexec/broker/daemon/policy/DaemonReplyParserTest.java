package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.PolicyVerdict;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class DaemonReplyParserTest {

    @Test
    void allowWithEveryField() {
        PolicyVerdict v = DaemonReplyParser.parse("user=DEFAULT\nresult=allow\ntarget=@dispvm:default-dvm\n"
                + "target_uuid=@dispvm:uuid:f3e5\nautostart=True\nrequested_target=@dispvm\nservice=x+y\n"
                + "policy_source=remote\n");
        assertEquals(new PolicyVerdict.Allow("DEFAULT", "@dispvm:default-dvm", true, "@dispvm", Optional.of("x+y"),
                Optional.of("remote")), v);
    }

    @Test
    void denyIsDeny() {
        assertEquals(new PolicyVerdict.Deny("denied by policy"), DaemonReplyParser.parse("result=deny"));
    }

    @Test
    void malformedRepliesAreDenials() {
        String[] bad = {
            "", "result=maybe", "result=allow", "result=deny\nuser=x", "result=deny\nresult=deny",
            "user=u\nresult=allow\ntarget=t\nautostart=yes\nrequested_target=t", "garbage",
            "result=deny\0", "result=deny\n\n", "x".repeat(5000),
        };
        for (String reply : bad) {
            PolicyVerdict v = DaemonReplyParser.parse(reply);
            assertTrue(v instanceof PolicyVerdict.Deny d && d.reason().startsWith("malformed"),
                    "'" + reply + "' gave " + v);
        }
    }

    @Test
    void unknownKeysAreIgnored() {
        assertInstanceOf(PolicyVerdict.Allow.class, DaemonReplyParser.parse(
                "user=u\nresult=allow\ntarget=t\nautostart=False\nrequested_target=t\nfuture=1"));
    }
}
