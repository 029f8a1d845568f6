package dev.qrexec.broker.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 32-byte {@code ident} of a trigger, kept exactly as received: SERVICE_CONNECT and
 * SERVICE_REFUSED must echo the very same bytes (spec 4.1).
 */
public final class RequestId {

    private final byte[] bytes;

    private RequestId(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Wraps a copy of exactly {@value WireLimits#IDENT_SIZE} raw bytes. */
    public static RequestId ofRaw(byte[] raw) {
        if (raw.length != WireLimits.IDENT_SIZE) {
            throw new IllegalArgumentException("request id must be " + WireLimits.IDENT_SIZE
                    + " bytes, got " + raw.length);
        }
        return new RequestId(raw.clone());
    }

    /** An ASCII id, NUL-padded to 32 bytes (at most 31 characters, so a NUL always ends it). */
    public static RequestId of(String ascii) {
        byte[] text = ascii.getBytes(StandardCharsets.ISO_8859_1);
        if (text.length >= WireLimits.IDENT_SIZE) {
            throw new IllegalArgumentException("request id longer than 31 bytes: " + ascii);
        }
        return new RequestId(Arrays.copyOf(text, WireLimits.IDENT_SIZE));
    }

    /** A copy of the raw 32 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /**
     * True if the id is what the C daemon accepts: bytes from {@code [0-9A-Za-z_ .-]}, then a NUL,
     * then only NULs.
     */
    public boolean isWellFormed() {
        int i = 0;
        while (i < bytes.length && bytes[i] != 0) {
            if (!isIdentByte(bytes[i])) {
                return false;
            }
            i++;
        }
        if (i == bytes.length) {
            return false;
        }
        for (; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIdentByte(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')
                || b == '_' || b == ' ' || b == '.' || b == '-';
    }

    /** The text before the first NUL, non-printable bytes escaped (for logs). */
    public String displayText() {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            if (b == 0) {
                break;
            }
            if (b >= 0x20 && b < 0x7f) {
                sb.append((char) b);
            } else {
                sb.append(String.format("\\x%02x", b & 0xff));
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "RequestId[" + displayText() + "]";
    }
}
