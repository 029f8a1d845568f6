package dev.qrexec.policy.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A blocking policy.sock client, as qrexec-daemon uses it: connect, send, read to EOF. */
final class UnixClient {

    private UnixClient() {
    }

    /** Sends {@code request} (ISO-8859-1 bytes), optionally half-closes, and returns everything read until EOF. */
    static String exchange(Path socket, String request, boolean shutdownOutput) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
            try {
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                if (shutdownOutput) {
                    ch.shutdownOutput();
                }
            } catch (IOException e) {
                // The server may close before reading everything (a refused request): read what it sent.
                if (!isReset(e)) {
                    throw e;
                }
            }
            return readToEof(ch);
        }
    }

    static String exchange(Path socket, String request) throws IOException {
        return exchange(socket, request, false);
    }

    private static boolean isReset(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.startsWith("Connection reset") || m.startsWith("Broken pipe");
    }

    static String readToEof(SocketChannel ch) throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(4096);
        while (true) {
            int n;
            try {
                n = ch.read(in);
            } catch (IOException e) {
                // A reset after the server closed with unread input counts as the end.
                if (received.size() == 0 && isReset(e)) {
                    return "";
                }
                throw e;
            }
            if (n < 0) {
                return received.toString(StandardCharsets.ISO_8859_1);
            }
            received.write(in.array(), 0, in.position());
            in.clear();
        }
    }
}
