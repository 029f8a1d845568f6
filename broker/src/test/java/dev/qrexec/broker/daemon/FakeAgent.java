package dev.qrexec.broker.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A qube's agent played from raw frames: it listens on {@code vchan.<id>.0.512.sock} in its socket
 * directory, like qrexec-agent built for Qubes' socket transport, and offers the steps of
 * spec Appendices A and B as methods.
 */
final class FakeAgent implements AutoCloseable {

    final String name;
    final int domainId;
    final Path dir;
    private final Thread acceptor;
    private volatile RawPeer control;
    private volatile IOException acceptError;

    /** Starts listening at once, in the background, so the broker may connect whenever it likes. */
    FakeAgent(String name, int domainId, Path dir) throws IOException {
        this.name = name;
        this.domainId = domainId;
        this.dir = dir;
        var server = RawPeer.listen(VchanSockets.controlSocket(dir, domainId));
        acceptor = new Thread(() -> {
            try (server) {
                control = new RawPeer(server.accept());
            } catch (IOException e) {
                acceptError = e;
            }
        }, "fake-agent-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    AgentAddress address() {
        return new AgentAddress(name, domainId, dir);
    }

    /** Waits for the broker, then does the agent's HELLO: send ours, read the broker's reply. */
    int handshake(int version) throws IOException, InterruptedException {
        acceptor.join();
        if (acceptError != null) {
            throw acceptError;
        }
        return control.hello(version);
    }

    /** The control connection, once the broker has connected. */
    RawPeer control() throws InterruptedException {
        acceptor.join();
        return control;
    }

    void trigger(String target, String ident, String service) throws IOException, InterruptedException {
        control().send(RawPeer.TRIGGER4, RawPeer.trigger4Body("", target, ident, service));
    }

    /**
     * The qrexec-client-vm half of a call after SERVICE_CONNECT{0, port}: listen on
     * {@code vchan.<id>.0.<port>.sock}, accept the broker, exchange HELLO.
     */
    RawPeer clientListen(int port) throws IOException {
        RawPeer data = RawPeer.acceptOne(VchanSockets.path(dir, domainId, 0, port));
        data.hello(4);
        return data;
    }

    /** The agent child of an EXEC_CMDLINE{0, port}: connect to {@code vchan.0.<id>.<port>.sock}, HELLO. */
    RawPeer serviceConnect(int port, int version) throws IOException, InterruptedException {
        RawPeer data = RawPeer.connect(VchanSockets.path(dir, 0, domainId, port));
        data.hello(version);
        return data;
    }

    void terminated(int domain, int port) throws IOException, InterruptedException {
        control().send(RawPeer.CONNECTION_TERMINATED, RawPeer.le(domain, port));
    }

    static String cstring(byte[] body, int offset) {
        int end = offset;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        return new String(body, offset, end - offset, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        acceptor.interrupt();
        if (control != null) {
            control.close();
        }
    }
}
