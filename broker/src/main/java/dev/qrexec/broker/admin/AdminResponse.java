package dev.qrexec.broker.admin;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The admin socket's answers (Qubes' qubesd format): {@code 0\0<payload>} for success,
 * {@code 2\0<type>\0<traceback>\0<message>\0} for an error (the traceback is always empty: it would
 * leak the daemon's internals), and for {@code admin.Events} a stream of
 * {@code 1\0<subject>\0<event>\0(<key>\0<value>\0)*\0}.
 */
public final class AdminResponse {

    private AdminResponse() {
    }

    public static byte[] ok(String payload) {
        return concat(new byte[] {'0', 0}, payload.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] error(AdminException e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {'2', 0});
        out.writeBytes(e.type().getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.write(0); // empty traceback
        out.writeBytes(String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
        out.write(0);
        return out.toByteArray();
    }

    public static byte[] event(String subject, String event, Map<String, String> kwargs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {'1', 0});
        out.writeBytes(subject.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.writeBytes(event.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        kwargs.forEach((k, v) -> {
            out.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            out.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        });
        out.write(0);
        return out.toByteArray();
    }

    /** A decoded reply as a client sees it. */
    public record Reply(boolean ok, String payload, String errorType, String errorMessage) {
    }

    /** Decodes a complete {@code 0} or {@code 2} reply. */
    public static Reply parse(byte[] data) throws AdminException {
        if (data.length < 2 || data[1] != 0) {
            throw AdminException.protocol("reply too short or without status byte");
        }
        if (data[0] == '0') {
            return new Reply(true, new String(data, 2, data.length - 2, StandardCharsets.UTF_8), null, null);
        }
        if (data[0] == '2') {
            List<String> parts = split(data, 2);
            if (parts.size() < 3) {
                throw AdminException.protocol("error reply has " + parts.size() + " fields, expected 3");
            }
            return new Reply(false, "", parts.get(0), parts.get(2));
        }
        throw AdminException.protocol("unknown reply status '" + (char) data[0] + "'");
    }

    static List<String> split(byte[] data, int from) {
        List<String> parts = new ArrayList<>();
        int start = from;
        for (int i = from; i < data.length; i++) {
            if (data[i] == 0) {
                parts.add(new String(data, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return parts;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
