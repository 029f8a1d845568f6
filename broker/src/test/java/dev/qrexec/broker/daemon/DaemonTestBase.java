package dev.qrexec.broker.daemon;

import dev.qrexec.broker.daemon.dom0.Dom0Services;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/** A broker on real Unix sockets in a short temporary directory, with fake agents around it. */
abstract class DaemonTestBase {

    static UnixSocketTransport sharedTransport;

    protected Path dir;
    protected BrokerDaemon daemon;
    protected final List<AutoCloseable> closeables = new ArrayList<>();
    protected UnixSocketTransport transport;

    @BeforeEach
    void createDir() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "qx");
        transport = UnixSocketTransport.create(2);
    }

    protected BrokerDaemon start(DaemonConfig config, CallPolicy policy, Dom0Services dom0, QubeStarter starter,
                                 DisposableProvider disposables) {
        daemon = new BrokerDaemon(transport, config, policy, dom0, starter, disposables);
        return daemon;
    }

    protected FakeAgent agent(String name, int id) throws IOException {
        return agent(name, id, dir);
    }

    protected FakeAgent agent(String name, int id, Path socketDir) throws IOException {
        FakeAgent a = new FakeAgent(name, id, socketDir);
        closeables.add(a);
        return a;
    }

    /** Declares the fake agent to the daemon and completes the handshake. */
    protected AgentSession connect(FakeAgent a) throws Exception {
        AgentSession s = daemon.declare(a.address());
        a.handshake(4);
        await().atMost(Duration.ofSeconds(5)).until(() -> s.state() == AgentSession.State.READY);
        return s;
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        if (daemon != null) {
            daemon.close();
        }
        transport.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
