package dev.qrexec.broker.admin;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One Admin API request as it crosses the admin socket: {@code method+arg source dest\0payload}.
 * The client half-closes after the payload; the payload is opaque bytes (most methods want text).
 *
 * @param method      e.g. {@code admin.vm.property.Get}
 * @param argument    the part after {@code +}, empty if none
 * @param source      the calling domain (always {@code dom0} on the local socket)
 * @param destination the qube the call is about, or {@code dom0}
 * @param payload     the bytes after the NUL
 */
public record AdminRequest(String method, String argument, String source, String destination, byte[] payload) {

    /** Largest request accepted, header and payload: payloads are a name, a value or a short list. */
    public static final int MAX_BYTES = 64 * 1024;

    public AdminRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(argument, "argument");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        payload = payload.clone();
    }

    public static AdminRequest of(String method, String argument, String destination, String payload) {
        return new AdminRequest(method, argument, "dom0", destination, payload.getBytes(StandardCharsets.UTF_8));
    }

    /** Parses a complete request; throws {@link AdminException} (ProtocolError) on malformed input. */
    public static AdminRequest parse(byte[] data) throws AdminException {
        if (data.length > MAX_BYTES) {
            throw AdminException.protocol("request of " + data.length + " bytes is over " + MAX_BYTES);
        }
        int nul = -1;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            throw AdminException.protocol("request has no NUL after its header");
        }
        String header = new String(data, 0, nul, StandardCharsets.US_ASCII);
        String[] words = header.split(" ", -1);
        if (words.length != 3) {
            throw AdminException.protocol("header must be 'method+arg source dest', got " + words.length + " words");
        }
        String call = words[0];
        int plus = call.indexOf('+');
        String method = plus < 0 ? call : call.substring(0, plus);
        String arg = plus < 0 ? "" : call.substring(plus + 1);
        if (!isName(method, false) || !isName(arg, true) || !isName(words[1], false) || !isName(words[2], false)) {
            throw AdminException.protocol("header has an empty word or a byte outside [A-Za-z0-9_.:@+-]");
        }
        return new AdminRequest(method, arg, words[1], words[2], Arrays.copyOfRange(data, nul + 1, data.length));
    }

    /** The request's bytes, as a client sends them before half-closing. */
    public byte[] encode() {
        String header = (argument.isEmpty() ? method : method + "+" + argument) + " " + source + " " + destination;
        byte[] h = header.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[h.length + 1 + payload.length];
        System.arraycopy(h, 0, out, 0, h.length);
        System.arraycopy(payload, 0, out, h.length + 1, payload.length);
        return out;
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    /** The payload as UTF-8 text; a payload that is not valid UTF-8 is a ProtocolError. */
    public String payloadText() throws AdminException {
        var decoder = StandardCharsets.UTF_8.newDecoder();
        try {
            return decoder.decode(java.nio.ByteBuffer.wrap(payload)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw AdminException.protocol("payload is not UTF-8");
        }
    }

    private static boolean isName(String s, boolean mayBeEmpty) {
        if (s.isEmpty()) {
            return mayBeEmpty;
        }
        return s.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '.' || c == ':' || c == '@' || c == '-' || c == '+');
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AdminRequest r && method.equals(r.method) && argument.equals(r.argument)
                && source.equals(r.source) && destination.equals(r.destination) && Arrays.equals(payload, r.payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, argument, source, destination, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "AdminRequest[" + method + (argument.isEmpty() ? "" : "+" + argument) + " " + source + " "
                + destination + ", " + payload.length + " payload bytes]";
    }
}
