package dev.qrexec.broker.daemon.policy;

import dev.qrexec.broker.daemon.CallRequest;
import dev.qrexec.broker.daemon.PolicyVerdict;
import dev.qrexec.broker.wire.RequestId;
import dev.qrexec.policy.daemon.EngineResponder;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.system.SystemInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The broker's policy is the policy.sock engine, read as qrexec-daemon reads it. */
class EngineCallPolicyTest {

    private static final String SYSTEM = """
            {"domains": {
              "dom0": {"tags": [], "type": "AdminVM", "uuid": "00000000-0000-0000-0000-000000000000",
                       "power_state": "Running", "guivm": null},
              "work": {"tags": ["trusted"], "type": "AppVM", "uuid": "11111111-1111-1111-1111-111111111111",
                       "default_dispvm": "default-dvm", "power_state": "Running", "guivm": null},
              "vault": {"tags": [], "type": "AppVM", "uuid": "22222222-2222-2222-2222-222222222222",
                        "power_state": "Halted", "guivm": null},
              "default-dvm": {"tags": [], "type": "AppVM", "template_for_dispvms": true,
                              "uuid": "33333333-3333-3333-3333-333333333333", "power_state": "Halted", "guivm": null}
            }}""";

    private static CallRequest request(String source, String target, String service) {
        return new CallRequest(source, 10, "", true, target, service, RequestId.of("SOCKET1"));
    }

    @Test
    void decisionsOfARealPolicy(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("30-test.policy"), """
                test.Echo * work vault allow user=alice
                test.Echo * work @default allow target=vault
                qubes.OpenURL * @anyvm @dispvm allow
                test.Dom0 * work @adminvm allow
                test.Uuid * work @anyvm allow target=uuid:22222222-2222-2222-2222-222222222222
                * * @anyvm @anyvm deny
                """);
        Policy policy = PolicyLoader.load(PolicyLocation.of(dir));
        SystemInfo system = SystemInfo.fromJson(SYSTEM);
        EngineCallPolicy p = new EngineCallPolicy(new EngineResponder(() -> policy, () -> system), () -> system);

        assertEquals(new PolicyVerdict.Allow("alice", "vault", true, "vault", Optional.empty(), Optional.empty()),
                p.evaluate(request("work", "vault", "test.Echo+x")));
        assertEquals("vault", ((PolicyVerdict.Allow) p.evaluate(request("work", "", "test.Echo"))).target());
        PolicyVerdict.Allow dvm = (PolicyVerdict.Allow) p.evaluate(request("work", "@dispvm", "qubes.OpenURL"));
        assertEquals(Optional.of("default-dvm"), dvm.dispvmTemplate());
        assertTrue(((PolicyVerdict.Allow) p.evaluate(request("work", "@adminvm", "test.Dom0"))).isDom0());
        assertEquals("vault", ((PolicyVerdict.Allow) p.evaluate(request("work", "vault", "test.Uuid"))).target());
        assertInstanceOf(PolicyVerdict.Deny.class, p.evaluate(request("vault", "work", "test.Echo")));
    }
}
