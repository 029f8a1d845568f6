package dev.qrexec.broker.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A blocking client of the admin socket: one connection per call, request, half-close, read the
 * reply to EOF. Plain JDK sockets keep a CLI's start-up small (no event loop).
 */
public final class AdminClient {

    /** Replies larger than this are refused: the biggest legitimate one is GetSystemInfo. */
    static final int MAX_REPLY = 16 * 1024 * 1024;

    private final Path socket;

    public AdminClient(Path socket) {
        this.socket = socket;
    }

    /** Sends a request and returns the success payload, or throws the server's error. */
    public String call(String method, String argument, String destination, String payload)
            throws IOException, AdminException {
        AdminResponse.Reply reply = AdminResponse.parse(raw(AdminRequest.of(method, argument, destination, payload)));
        if (!reply.ok()) {
            throw new AdminException(reply.errorType(), reply.errorMessage());
        }
        return reply.payload();
    }

    /** Sends a request and returns the reply bytes as received. */
    public byte[] raw(AdminRequest request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.wrap(request.encode());
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.shutdownOutput();
            return readAll(Channels.newInputStream(ch));
        }
    }

    /** One event from {@code admin.Events}. */
    public record Event(String subject, String name, Map<String, String> attributes) {
    }

    /**
     * Streams {@code admin.Events} for {@code destination} (dom0 = all) until {@code sink} returns
     * false or the server closes the connection.
     */
    public void events(String destination, Predicate<Event> sink) throws IOException, AdminException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(AdminRequest.of(AdminMethods.EVENTS, "", destination, "").encode()));
            ch.shutdownOutput();
            InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch));
            while (true) {
                int status = in.read();
                if (status < 0) {
                    return;
                }
                if (in.read() != 0) {
                    throw AdminException.protocol("event stream: missing NUL after status");
                }
                if (status == '2') {
                    String type = field(in);
                    field(in);
                    throw new AdminException(type, field(in));
                }
                if (status != '1') {
                    throw AdminException.protocol("event stream: unexpected status '" + (char) status + "'");
                }
                String subject = field(in);
                String name = field(in);
                Map<String, String> attrs = new LinkedHashMap<>();
                for (String key = field(in); !key.isEmpty(); key = field(in)) {
                    attrs.put(key, field(in));
                }
                if (!sink.test(new Event(subject, name, attrs))) {
                    return;
                }
            }
        }
    }

    private static String field(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != 0; c = in.read()) {
            if (c < 0) {
                throw new IOException("event stream ended inside a field");
            }
            if (b.size() >= AdminRequest.MAX_BYTES) {
                throw new IOException("event field over " + AdminRequest.MAX_BYTES + " bytes");
            }
            b.write(c);
        }
        return b.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            if (out.size() + n > MAX_REPLY) {
                throw new IOException("reply over " + MAX_REPLY + " bytes");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
