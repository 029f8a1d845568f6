package dev.qrexec.broker.agent;

import dev.qrexec.broker.io.SocketChannelStreams;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * A service that is a Unix socket in the service path (spec 7.2): the agent connects, writes the
 * descriptor {@code "svc+arg source\0"} unless the config skips it, then relays bytes. There is no
 * stderr and no exit status of its own: the status is 0 once the socket reaches EOF.
 */
final class SocketService implements RunningService {

    private final SocketChannel socket;
    private final InputStream in;
    private final OutputStream out;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    private SocketService(SocketChannel socket) {
        this.socket = socket;
        this.in = SocketChannelStreams.input(socket, () -> exit.complete(0));
        // Stdin EOF (closing this stream) is a half-close; the service may still answer.
        this.out = SocketChannelStreams.output(socket);
    }

    static SocketService connect(Path path, String descriptor) throws IOException {
        SocketChannel socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            socket.connect(UnixDomainSocketAddress.of(path));
            if (descriptor != null) {
                byte[] d = (descriptor + "\0").getBytes(StandardCharsets.UTF_8);
                Channels.newOutputStream(socket).write(d);
            }
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new SocketService(socket);
    }

    @Override
    public OutputStream stdin() {
        return out;
    }

    @Override
    public InputStream stdout() {
        return in;
    }

    @Override
    public InputStream stderr() {
        return InputStream.nullInputStream();
    }

    @Override
    public CompletableFuture<Integer> exitStatus() {
        return exit;
    }

    @Override
    public void destroy() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is best effort: the call is over either way.
        }
        exit.complete(ExitCodes.PROBLEM);
    }
}
