package dev.qrexec.policy.reload;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyServiceTest {

    private static final SystemInfo SYSTEM = SystemInfo.fromJson(Fixtures.SYSTEM_JSON);
    private static final PolicyRequest FILECOPY = PolicyRequest.of("qubes.Filecopy", "+", "work", "vault");
    private static final PolicyService.ReloadSettings FAST =
            new PolicyService.ReloadSettings(true, Duration.ofMillis(50), Duration.ofMillis(500));
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private PolicyLocation location(Path... dirs) {
        return new PolicyLocation(List.of(dirs), tmp.resolve("no-legacy"));
    }

    private Decision decide(PolicyService service) {
        return service.current().evaluate(FILECOPY, SYSTEM);
    }

    @Test
    void picksUpANewFileAndAChangedOne() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        write(dir.resolve("90-default.policy"), "* * @anyvm @anyvm deny\n");
        try (PolicyService service = PolicyService.open(location(dir), FAST)) {
            assertInstanceOf(Decision.Deny.class, decide(service));
            assertEquals(1, service.status().generation());

            write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault allow\n");
            await().atMost(WAIT).until(() -> decide(service) instanceof Decision.Allow);
            assertEquals("30-user.policy:1", decide(service).rule().orElseThrow().location().toString());
            PolicyStatus status = service.status();
            assertEquals(2, status.ruleCount());
            assertTrue(status.healthy());

            write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault deny notify=no\n");
            await().atMost(WAIT).until(() -> decide(service) instanceof Decision.Deny d && !d.notifyUser());
        }
    }

    @Test
    void aBrokenReloadKeepsTheLastGoodPolicyAndSaysWhy() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault allow\n");
        try (PolicyService service = PolicyService.open(location(dir), FAST)) {
            assertInstanceOf(Decision.Allow.class, decide(service));

            write(dir.resolve("30-user.policy"), "# edited\nqubes.Filecopy * work vault Allow\n");
            await().atMost(WAIT).until(() -> !service.status().healthy());
            PolicyStatus broken = service.status();
            assertEquals("30-user.policy:2: invalid action: Allow", broken.lastError());
            assertEquals(1, broken.generation());
            assertEquals(1, broken.failures());
            assertTrue(broken.summary().endsWith("last reload failed: 30-user.policy:2: invalid action: Allow"),
                    broken.summary());
            assertInstanceOf(Decision.Allow.class, decide(service), "the last good policy stays in force");

            write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault deny\n");
            await().atMost(WAIT).until(() -> service.status().healthy());
            assertEquals(2, service.status().generation());
            assertInstanceOf(Decision.Deny.class, decide(service));
        }
    }

    @Test
    void aPolicyBrokenAtStartDeniesEverythingUntilFixed() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault allow target=\n");
        write(dir.resolve("40-more.policy"), "* * @anyvm @anyvm allow\n");
        try (PolicyService service = PolicyService.open(location(dir), FAST)) {
            PolicyStatus status = service.status();
            assertTrue(status.denyingEverything());
            assertEquals(0, status.ruleCount());
            assertTrue(status.lastError().startsWith("30-user.policy:1: "), status.lastError());
            Decision d = decide(service);
            assertInstanceOf(Decision.Deny.class, d);

            write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault allow\n");
            await().atMost(WAIT).until(() -> decide(service) instanceof Decision.Allow);
            assertFalse(service.status().denyingEverything());
        }
    }

    @Test
    void watchesIncludedFilesInSubdirectories() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        write(dir.resolve("include/filecopy"), "work vault deny\n");
        write(dir.resolve("30-user.policy"), "!include-service qubes.Filecopy * include/filecopy\n");
        try (PolicyService service = PolicyService.open(location(dir), FAST)) {
            assertInstanceOf(Decision.Deny.class, decide(service));
            write(dir.resolve("include/filecopy"), "work vault allow\n");
            await().atMost(WAIT).until(() -> decide(service) instanceof Decision.Allow);
            assertEquals("include/filecopy:1", decide(service).rule().orElseThrow().location().toString());
        }
    }

    @Test
    void anEarlierDirectoryCreatedLaterShadowsTheSameFileName() throws IOException {
        Path run = tmp.resolve("run-policy.d");
        Path etc = Files.createDirectory(tmp.resolve("etc-policy.d"));
        write(etc.resolve("30-user.policy"), "qubes.Filecopy * work vault deny\n");
        try (PolicyService service = PolicyService.open(location(run, etc), FAST)) {
            assertInstanceOf(Decision.Deny.class, decide(service));
            write(run.resolve("30-user.policy"), "qubes.Filecopy * work vault allow\n");
            await().atMost(WAIT).until(() -> decide(service) instanceof Decision.Allow);
        }
    }

    @Test
    void manualSettingsReloadOnlyOnRequest() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("policy.d"));
        write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault deny\n");
        try (PolicyService service = PolicyService.open(location(dir), PolicyService.ReloadSettings.manual())) {
            write(dir.resolve("30-user.policy"), "qubes.Filecopy * work vault allow\n");
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> decide(service) instanceof Decision.Deny);
            PolicyStatus status = service.reloadNow().get();
            assertEquals(2, status.generation());
            assertNull(status.lastError());
            assertInstanceOf(Decision.Allow.class, decide(service));
        }
    }
}
