package dev.qrexec.policy.reload;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemInfoFileTest {

    private static final PolicyService.ReloadSettings FAST =
            new PolicyService.ReloadSettings(true, Duration.ofMillis(50), Duration.ofMillis(500));

    @TempDir
    Path tmp;

    @Test
    void unavailableUntilTheFileAppearsThenFollowsIt() throws IOException {
        Path file = tmp.resolve("system-info.json");
        try (SystemInfoFile info = SystemInfoFile.open(file, FAST)) {
            SystemInfoFile.SystemInfoUnavailableException e =
                    assertThrows(SystemInfoFile.SystemInfoUnavailableException.class, info::get);
            assertTrue(e.getMessage().startsWith("no system info: "), e.getMessage());

            write(file, Fixtures.SYSTEM_JSON);
            await().atMost(Duration.ofSeconds(10)).until(() -> info.status().generation() == 1);
            assertTrue(info.get().contains("work"));

            write(file, "{\"domains\": {\"dom0\": {\"type\": \"AdminVM\"}}}");
            await().atMost(Duration.ofSeconds(10)).until(() -> !info.get().contains("work"));
        }
    }

    @Test
    void aBrokenFileKeepsTheLastGoodSystemInfo() throws IOException {
        Path file = write(tmp.resolve("system-info.json"), Fixtures.SYSTEM_JSON);
        try (SystemInfoFile info = SystemInfoFile.open(file, FAST)) {
            write(file, "{\"domains\": ");
            await().atMost(Duration.ofSeconds(10)).until(() -> !info.status().healthy());
            assertTrue(info.status().lastError().contains("system info is not valid JSON"), info.status().lastError());
            assertEquals(5, info.get().qubes().size());
        }
    }
}
