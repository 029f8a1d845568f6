package dev.qrexec.broker.client;

import dev.qrexec.broker.agent.stream.WritabilityGate;
import dev.qrexec.broker.wire.ChannelRole;
import dev.qrexec.broker.wire.WirePipeline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import dev.qrexec.broker.daemon.ChannelSocketOwner;
import dev.qrexec.xen.transport.VchanAddress;
import dev.qrexec.xen.transport.VchanListener;
import dev.qrexec.xen.transport.VchanTransport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The data phase of a call made by a client: listen as vchan server on
 * {@code vchan.<own>.<peer>.<port>.sock} (the caller listens, spec 5.1), accept the service side,
 * relay, return the remote exit code. Owns one event loop thread and the pump threads.
 */
final class DataCall implements AutoCloseable {

    private final VchanTransport transport = VchanTransport.create(VchanTransport.Kind.EPOLL, 1);
    private final ExecutorService pumps = Executors.newFixedThreadPool(3, new DefaultThreadFactory("client-pump", true));
    private final Path vchanDir;
    private final boolean handOver;

    /**
     * @param handOver true where the peer is a qube that polls for the socket before it exists
     *                 (qrexec-client in dom0): the socket is bound aside, given to the owner of
     *                 {@code vchanDir} and renamed into place ({@link ChannelSocketOwner#publish});
     *                 false where the peer is dom0, which may connect to anything (qrexec-client-vm)
     */
    DataCall(Path vchanDir, boolean handOver) {
        this.vchanDir = vchanDir;
        this.handOver = handOver;
    }

    EventLoopGroup group() {
        return transport.eventLoopGroup();
    }

    /** Thrown when the service side never connected. */
    static final class SetupException extends Exception {
        private static final long serialVersionUID = 1L;

        SetupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Runs the data phase.
     *
     * @return the remote exit code (125 if the channel broke)
     */
    int run(int own, int peer, int port, InputStream in, OutputStream out, OutputStream err, byte[] prefix,
            Duration acceptTimeout) throws SetupException, InterruptedException {
        ClientDataHandler handler = new ClientDataHandler(in, out, err, prefix, pumps);
        VchanAddress address;
        VchanListener listener;
        try {
            address = VchanAddress.listening(vchanDir, own, peer, port);
            // With hand-over, the daemon has told the agent already, and it polls for the socket:
            // bind where it cannot look, give the socket to the qube, then rename it into place.
            Path bindDir = handOver ? stagingDir() : vchanDir;
            listener = transport.openListener(VchanAddress.listening(bindDir, own, peer, port),
                    new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            WirePipeline.install(ch, ChannelRole.DATA_CLIENT);
                            WritabilityGate.install(ch);
                            ch.pipeline().addLast(handler);
                        }
                    }, acceptTimeout);
        } catch (IllegalArgumentException | IOException e) {
            throw new SetupException("unusable data channel address: " + e.getMessage(), e);
        }
        Future<Channel> accepted = listener.accepted();
        try {
            await(listener.bound(), acceptTimeout, "cannot listen on " + listener.address());
            try {
                if (handOver) {
                    ChannelSocketOwner.publish(listener.address().path(), address.path());
                }
            } catch (IOException e) {
                listener.close();
                throw new SetupException("cannot hand " + address.path() + " to the qube: " + e.getMessage(), e);
            }
            if (!accepted.await(acceptTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS) || !accepted.isSuccess()) {
                accepted.cancel(false);
                throw new SetupException("the service side did not connect within " + acceptTimeout, accepted.cause());
            }
        } finally {
            // The listener is closed once it accepted (or gave up); the renamed file is ours to remove.
            deleteQuietly(address.path());
        }
        try {
            return handler.exitCode().get();
        } catch (ExecutionException e) {
            throw new SetupException("data channel failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Where a listener is bound before it is handed over: a directory of this user, mode 0700,
     * next to the qube's channel directory (same file system, so the rename works) but not in
     * it, so the qube, which owns its channel directory, cannot swap it for a symlink.
     */
    private Path stagingDir() throws IOException {
        Path parent = vchanDir.toAbsolutePath().getParent();
        if (parent == null) {
            throw new IOException(vchanDir + " has no parent directory to bind in");
        }
        Path dir = parent.resolve(".qrexec-bind");
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // made by an earlier call; checked below
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Object ownerUid = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object ownUid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!a.isDirectory() || !ownerUid.equals(ownUid)
                || !PosixFilePermissions.toString(a.permissions()).equals("rwx------")) {
            throw new IOException(dir + " is not a private directory of this user (rwx------)");
        }
        return dir;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            System.getLogger(DataCall.class.getName()).log(System.Logger.Level.DEBUG, "cannot remove {0}: {1}", p, e);
        }
    }

    /** Waits at most {@code timeout} for a future of the event loop, for setup steps. */
    static <T> T await(io.netty.util.concurrent.Future<T> f, Duration timeout, String what)
            throws SetupException, InterruptedException {
        if (!f.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new SetupException(what + ": no answer within " + timeout, new TimeoutException());
        }
        if (!f.isSuccess()) {
            throw new SetupException(what + ": " + f.cause().getMessage(), f.cause());
        }
        return f.getNow();
    }

    @Override
    public void close() {
        transport.close();
        pumps.shutdownNow();
    }
}
