package dev.qrexec.broker.daemon;

import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's local sockets, one per declared qube: {@code <dir>/qrexec.<domid>} and the symlink
 * {@code qrexec.<name>}, as qrexec-daemon creates them (spec qrexec-wire.md 1, channel C).
 * Access control is the directory's permissions.
 */
final class LocalSockets implements AutoCloseable {

    private static final Logger LOG = System.getLogger(LocalSockets.class.getName());

    private final BrokerDaemon daemon;
    private final Path dir;
    private final Map<String, Channel> listeners = new ConcurrentHashMap<>();

    LocalSockets(BrokerDaemon daemon, Path dir) {
        this.daemon = daemon;
        this.dir = dir;
    }

    /** Starts listening for {@code qube}; asynchronous, so it may be called from an event loop. */
    void open(AgentAddress qube) {
        Path socket = dir.resolve("qrexec." + qube.domainId());
        Path link = dir.resolve("qrexec." + qube.name());
        try {
            Files.createDirectories(dir);
            daemon.transport().listen(daemon.transport().group().next(), socket, new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    WirePipeline.install(ch, ChannelRole.LOCAL_DAEMON);
                    ch.pipeline().addLast(new LocalClientHandler(daemon, qube.name()));
                }
            }).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    LOG.log(Level.WARNING, "cannot open the local socket of {0} at {1}: {2}", qube.name(), socket,
                            f.cause());
                    return;
                }
                Channel server = f.channel();
                Files.deleteIfExists(link);
                Files.createSymbolicLink(link, socket.getFileName());
                server.closeFuture().addListener(c -> {
                    Files.deleteIfExists(link);
                    Files.deleteIfExists(socket);
                });
                Channel previous = listeners.put(qube.name(), server);
                if (previous != null) {
                    previous.close();
                }
            });
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "cannot open the local socket of " + qube.name() + " at " + socket, e);
        }
    }

    void close(String name) {
        Channel server = listeners.remove(name);
        if (server != null) {
            server.close();
        }
    }

    @Override
    public void close() {
        for (String name : listeners.keySet()) {
            close(name);
        }
    }
}
