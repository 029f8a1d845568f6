package dev.qrexec.broker.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

class ChannelSocketAccessTest {

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void brokerListenersBecomeConnectableAndOtherSocketsAreLeftAlone(@TempDir Path dir) throws Exception {
        try (ChannelSocketAccess access = new ChannelSocketAccess();
             ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             ServerSocketChannel agentOwn = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            access.watch(dir);
            Path data = dir.resolve("vchan.0.7.513.sock");
            Path control = dir.resolve("vchan.7.0.512.sock");
            agentOwn.bind(UnixDomainSocketAddress.of(control));
            listener.bind(UnixDomainSocketAddress.of(data));
            await().atMost(Duration.ofSeconds(10)).until(() -> mode(data).equals("rw-rw-rw-"));
            assertNotEquals("rw-rw-rw-", mode(control), "only the broker's vchan.0.* listeners are opened");
        }
    }
}
