package dev.qrexec.policy.daemon;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reload.PolicyService;
import dev.qrexec.policy.reload.SystemInfoFile;
import dev.qrexec.policy.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine behind a real policy.sock: the daemon-level cases of spec 8.3 byte for byte, hot
 * reload through the socket, and a system info that cannot be read.
 */
class PolicyDaemonProtocolTest {

    private static final String POLICY = """
            qubes.Filecopy * work vault allow
            test.Dom0 * work @adminvm allow
            test.Arg +foo work vault deny notify=no
            test.Arg * work @anyvm ask
            qubes.Ask * work @default ask default_target=vault
            qubes.OpenURL * @anyvm @dispvm allow
            test.Loop * @anyvm @anyvm allow
            """;
    private static final PolicyService.ReloadSettings FAST =
            new PolicyService.ReloadSettings(true, Duration.ofMillis(50), Duration.ofMillis(500));

    @TempDir
    Path tmp;
    private Path policyDir;
    private PolicyService policy;
    private SystemInfoFile system;
    private PolicySocketServer server;

    @BeforeEach
    void start() throws IOException {
        policyDir = Files.createDirectory(tmp.resolve("policy.d"));
        write(policyDir.resolve("30-user.policy"), POLICY);
        Path systemFile = write(tmp.resolve("system-info.json"), Fixtures.SYSTEM_JSON);
        policy = PolicyService.open(new PolicyLocation(List.of(policyDir), tmp.resolve("legacy")), FAST);
        system = SystemInfoFile.open(systemFile, FAST);
        server = PolicySocketServer.start(tmp.resolve("policy.sock"), policy, system);
    }

    @AfterEach
    void stop() {
        server.close();
        system.close();
        policy.close();
    }

    private String ask(String source, String target, String serviceAndArg, String extra) throws IOException {
        return UnixClient.exchange(server.path(), "source=" + source + "\nintended_target=" + target
                + "\nservice_and_arg=" + serviceAndArg + "\n" + extra + "\n");
    }

    @ParameterizedTest(name = "{0} -> {1} {2} {3}")
    @CsvSource(delimiter = '|', value = {
        // spec 8.3, daemon-level cases
        "work | vault    | qubes.Filecopy+x | ''                      | user=DEFAULT\\nresult=allow\\ntarget=vault\\ntarget_uuid=uuid:b3eb69d0-f9d9-4c3c-ad5c-454500303ea4\\nautostart=True\\nrequested_target=vault",
        "work | @adminvm | test.Dom0        | ''                      | user=DEFAULT\\nresult=allow\\ntarget=dom0\\nautostart=True\\nrequested_target=@adminvm",
        "work | vault    | test.Arg+bar     | assume_yes_for_ask=yes  | user=DEFAULT\\nresult=allow\\ntarget=vault\\ntarget_uuid=uuid:b3eb69d0-f9d9-4c3c-ad5c-454500303ea4\\nautostart=True\\nrequested_target=vault",
        "work | ''       | qubes.Ask        | assume_yes_for_ask=yes  | result=deny",
        "work | vault    | test.Arg+foo     | ''                      | result=deny",
        // the example of spec 5.7
        "work | @dispvm  | qubes.OpenURL    | ''                      | user=DEFAULT\\nresult=allow\\ntarget=@dispvm:default-dvm\\ntarget_uuid=@dispvm:uuid:f3e538bd-4427-4697-bed7-45ef3270df21\\nautostart=True\\nrequested_target=@dispvm",
        // modes
        "work | vault    | qubes.Filecopy   | just_evaluate=yes       | result=allow",
        "work | vault    | test.Arg+bar     | just_evaluate=yes       | result=deny",
        // an ask in normal mode needs a prompt this daemon does not have
        "work | vault    | test.Arg+bar     | ''                      | result=deny",
        // loopback is an engine-level allow but a daemon-level deny
        "work | work     | test.Loop        | ''                      | result=deny",
        // invalid intended target token, unknown service
        "work | @anyvm   | qubes.Filecopy   | ''                      | result=deny",
        "work | vault    | no.Such          | ''                      | result=deny",
    })
    void answersLikeTheReference(String source, String target, String serviceAndArg, String extra, String expected)
            throws IOException {
        String extraLine = extra.isEmpty() ? "" : extra + "\n";
        assertEquals(expected.replace("\\n", "\n"), ask(source, target, serviceAndArg, extraLine));
    }

    @Test
    void anOldDaemonsDomainIdGetsAnEmptyReply() throws IOException {
        assertEquals("", ask("work", "vault", "qubes.Filecopy+x", "domain_id=3\n"));
    }

    @Test
    void aPolicyChangeIsAnsweredOnTheNextConnection() throws IOException {
        assertEquals("result=allow", ask("work", "vault", "qubes.Filecopy", "just_evaluate=yes\n"));
        write(policyDir.resolve("20-vault.policy"), "* * @anyvm vault deny\n");
        await().atMost(Duration.ofSeconds(10)).until(
                () -> ask("work", "vault", "qubes.Filecopy", "just_evaluate=yes\n").equals("result=deny"));
    }

    @Test
    void withoutSystemInfoEverythingIsDenied() throws IOException {
        try (SystemInfoFile missing = SystemInfoFile.open(tmp.resolve("absent.json"), PolicyService.ReloadSettings.manual());
             PolicySocketServer other = PolicySocketServer.start(tmp.resolve("other.sock"), policy, missing)) {
            assertEquals("result=deny", UnixClient.exchange(other.path(),
                    "source=work\nintended_target=vault\nservice_and_arg=qubes.Filecopy+x\n\n"));
        }
    }
}
