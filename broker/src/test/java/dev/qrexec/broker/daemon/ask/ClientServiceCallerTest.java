package dev.qrexec.broker.daemon.ask;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ClientServiceCallerTest {

    @Test
    void aQubeTheBrokerDoesNotServeFailsAtOnceWithTheReason() {
        try (ClientServiceCaller c = new ClientServiceCaller(name -> Optional.empty(),
                () -> Optional.of(Path.of("/tmp")))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> c.call("sys-gui", "policy.Ask", new byte[0]).get(1, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("sys-gui is not a running qube the broker serves"),
                    e.getCause().getMessage());
        }
    }

    @Test
    void aQubeWhoseLocalSocketIsMissingFailsWithQrexecClientsExitCode() throws Exception {
        Path empty = java.nio.file.Files.createTempDirectory(Path.of("/tmp"), "qc");
        try (ClientServiceCaller c = new ClientServiceCaller(name -> Optional.of(empty), () -> Optional.of(empty))) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> c.call("sys-gui", "policy.Ask", new byte[0]).get(40, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("policy.Ask in sys-gui exited 125"), e.getCause().getMessage());
        } finally {
            java.nio.file.Files.deleteIfExists(empty);
        }
    }
}
