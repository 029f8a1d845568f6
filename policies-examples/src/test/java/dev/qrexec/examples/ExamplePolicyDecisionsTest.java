package dev.qrexec.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pins what the example policy decides, so that an edit to policy.d that changes a decision is a
 * deliberate one. Loaded the way the demo installs it: from the packaged resources.
 */
class ExamplePolicyDecisionsTest {

    @TempDir
    static Path installed;
    private static Policy policy;
    private static SystemInfo system;

    @BeforeAll
    static void install() throws Exception {
        ExamplePolicies.installPolicyDir(installed.resolve("policy.d"));
        policy = PolicyLoader.load(new PolicyLocation(List.of(installed.resolve("policy.d")), installed.resolve("none")));
        system = SystemInfo.fromJson(ExamplePolicies.systemInfoJson());
    }

    private static Decision decide(String service, String argument, String source, String target) {
        return policy.evaluate(PolicyRequest.of(service, argument, source, target), system);
    }

    @ParameterizedTest(name = "{0}{1}: {2} -> {3} = {4} {5}")
    @CsvSource(delimiter = '|', value = {
        // service         | arg     | source    | target     | result | rule                       | target or default_target
        "qubes.OpenURL     | +       | work      | @dispvm    | allow  | 30-user.policy:7           | @dispvm:default-dvm",
        "qubes.OpenURL     | +       | work      | ''         | allow  | 30-user.policy:9           | @dispvm:default-dvm",
        "qubes.OpenURL     | +       | personal  | @dispvm    | allow  | 30-user.policy:8           | @dispvm:default-dvm",
        "qubes.OpenURL     | +       | personal  | work       | ask    | 90-default.policy:8        | ''",
        "qubes.OpenInVM    | +       | personal  | work       | allow  | 30-user.policy:10          | @dispvm:default-dvm",
        "qubes.OpenInVM    | +       | work      | ''         | allow  | 30-user.policy:10          | @dispvm:default-dvm",
        "qubes.Filecopy    | +       | work      | vault      | deny   | 20-vault.policy:6          | ''",
        "qubes.Filecopy    | +       | work      | personal   | ask    | 30-user.policy:21          | personal",
        "qubes.Filecopy    | +       | work      | ''         | ask    | 30-user.policy:20          | personal",
        "qubes.Filecopy    | +       | work      | no-such-qube | ask  | 30-user.policy:20          | personal",
        "qubes.Filecopy    | +       | disp1234  | work       | deny   | 30-user.policy:24          | ''",
        "qubes.Filecopy    | +       | vault     | work       | ask    | 90-default.policy:4        | ''",
        "qubes.Gpg         | +       | work      | gpg        | ask    | 30-user.policy:15          | gpg",
        "qubes.Gpg         | +       | work      | ''         | ask    | 30-user.policy:16          | gpg",
        "qubes.Gpg         | +       | personal  | gpg        | deny   | 30-user.policy:17          | ''",
        "custom.GetSecret  | +github | work      | gpg        | allow  | 30-user.policy:27          | gpg",
        "custom.GetSecret  | +bank   | work      | gpg        | ask    | 30-user.policy:28          | ''",
        "qubes.GetDate     | +       | personal  | @adminvm   | allow  | 90-default.policy:11       | dom0",
        "qubes.SyncAppMenus| +       | debian-13 | @adminvm   | allow  | 90-default.policy:13       | dom0",
        "qubes.SyncAppMenus| +       | work      | @adminvm   | deny   | 90-default.policy:23       | ''",
        "policy.List       | +       | mgmt      | @adminvm   | allow  | include/admin-policy-ro:5  | dom0",
        "policy.Replace    | +       | mgmt      | @adminvm   | deny   | 90-default.policy:23       | ''",
        "qubes.VMShell     | +       | work      | personal   | deny   | 90-default.policy:18       | ''",
        "qubes.StartApp    | +firefox| work      | vault      | deny   | 20-vault.policy:6          | ''",
    })
    void decides(String service, String argument, String source, String target, String result, String rule,
                 String resolved) {
        Decision d = decide(service, argument, source, target);
        assertEquals(rule, d.rule().orElseThrow(() -> new AssertionError("no rule: " + d.reason())).location().toString());
        switch (result) {
            case "allow" -> assertEquals(resolved, assertInstanceOf(Decision.Allow.class, d).target());
            case "ask" -> assertEquals(resolved.isEmpty() ? null : resolved, assertInstanceOf(Decision.Ask.class, d).defaultTarget());
            case "deny" -> assertEquals("denied by policy " + rule, assertInstanceOf(Decision.Deny.class, d).message());
            default -> throw new AssertionError("bad table row: " + result);
        }
    }

    @Test
    void nothingButDom0ReachesTheVault() {
        for (var qube : system.qubes()) {
            if (qube.name().equals("dom0") || qube.name().equals("vault")) {
                continue;
            }
            for (String service : List.of("qubes.Filecopy", "qubes.OpenInVM", "qubes.Gpg", "custom.GetSecret", "x.Any")) {
                Decision d = decide(service, "+", qube.name(), "vault");
                assertInstanceOf(Decision.Deny.class, d, qube.name() + " " + service);
            }
        }
    }

    @Test
    void theVaultIsNeverOfferedInAPrompt() {
        Decision.Ask ask = assertInstanceOf(Decision.Ask.class, decide("qubes.Filecopy", "+", "work", "personal"));
        assertTrue(!ask.targets().contains("vault") && ask.targets().contains("personal"), ask.targets().toString());
    }

    @Test
    void splitGpgOffersOnlyTheKeyQubeAndRefusesOthersQuietly() {
        Decision.Ask ask = assertInstanceOf(Decision.Ask.class, decide("qubes.Gpg", "+", "work", ""));
        assertEquals(List.of("gpg"), ask.targets());
        for (String[] call : new String[][] {{"work", "personal"}, {"disp1234", "gpg"}, {"personal", ""}}) {
            Decision.Deny deny = assertInstanceOf(Decision.Deny.class, decide("qubes.Gpg", "+", call[0], call[1]),
                    String.join(" -> ", call));
            assertEquals(false, deny.notifyUser());
        }
    }
}
