package dev.qrexec.broker.client;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Replaces control bytes in remote output with {@code _} before they reach a terminal ({@code -t},
 * {@code -T}; spec 5.2): a hostile service must not drive the caller's terminal with escape
 * sequences. Tab, newline and carriage return pass; bytes of 0x80 and above pass (UTF-8 text).
 * It does not change what is on the wire.
 */
final class EscapeFilter extends FilterOutputStream {

    EscapeFilter(OutputStream out) {
        super(out);
    }

    static byte filter(byte b) {
        int c = b & 0xff;
        if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7f)) {
            return b;
        }
        return '_';
    }

    @Override
    public void write(int b) throws IOException {
        out.write(filter((byte) b));
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        byte[] copy = new byte[len];
        for (int i = 0; i < len; i++) {
            copy[i] = filter(b[off + i]);
        }
        out.write(copy, 0, len);
    }
}
