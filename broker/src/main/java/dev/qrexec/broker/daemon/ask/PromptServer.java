package dev.qrexec.broker.daemon.ask;

import dev.qrexec.broker.admin.AdminAccess;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The prompt socket where {@code ./qrexec prompt} connects to answer dom0's {@code policy.Ask}
 * (see {@link PromptHub}): mode 0660, and the peer's SO_PEERCRED checked like the admin socket's
 * (root, the broker's user, or a configured group). Lines longer than
 * {@link PromptProtocol#MAX_LINE}, malformed JSON and unknown messages close the connection with
 * a logged reason; an agent that stops reading is disconnected once its buffer is full.
 *
 * <p>Threads: one event loop of its own; each connection's state is confined to it.
 */
public final class PromptServer implements AutoCloseable {

    private static final Logger LOG = System.getLogger(PromptServer.class.getName());

    private final Path path;
    private final EventLoopGroup group;
    private final Channel server;
    private final ChannelGroup agents;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PromptServer(Path path, PromptHub hub, AdminAccess access) throws InterruptedException {
        this.path = path;
        this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        this.agents = new DefaultChannelGroup("prompt-agents", group.next());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        agents.add(ch);
                        PromptAgentHandler.install(ch, hub, c -> identify(c, access));
                    }
                });
        try {
            this.server = b.bind(new DomainSocketAddress(path.toString())).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw e;
        }
    }

    /** Listens on {@code path} (a stale socket is replaced) for prompt agents. */
    public static PromptServer start(Path path, PromptHub hub, AdminAccess access)
            throws IOException, InterruptedException {
        Objects.requireNonNull(hub, "hub");
        Objects.requireNonNull(access, "access");
        Files.deleteIfExists(path);
        PromptServer s = new PromptServer(path, hub, access);
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        LOG.log(Level.INFO, "prompt socket listening on {0}", path);
        return s;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.close().syncUninterruptibly();
        // the agents see the broker go (their open questions were denied by the hub)
        agents.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot remove {0}: {1}", path, e.getMessage());
        }
    }

    /** SO_PEERCRED of a prompt agent's connection, judged by {@code access}; null if refused. */
    static String identify(Channel ch, AdminAccess access) {
        PeerCredentials peer;
        try {
            peer = ((EpollDomainSocketChannel) ch).peerCredentials();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "prompt socket: cannot read peer credentials, closing: {0}", e.toString());
            return null;
        }
        String name = "pid " + peer.pid() + " uid " + peer.uid();
        if (!access.allows(peer)) {
            LOG.log(Level.WARNING, "prompt socket: {0} is not allowed to answer prompts, closing", name);
            return null;
        }
        return name;
    }
}
