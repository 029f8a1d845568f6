package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Structure;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct _virTypedParameter}: an 80-byte name, the value's type, and an 8-byte union (here
 * written as a {@code long}; an {@code unsigned int} value sits in its low bytes on little-endian).
 */
@Structure.FieldOrder({"field", "type", "value"})
public class VirTypedParameter extends Structure {

    /** {@code VIR_TYPED_PARAM_UINT}. */
    public static final int UINT = 2;
    /** {@code VIR_TYPED_PARAM_ULLONG}. */
    public static final int ULLONG = 4;

    public byte[] field = new byte[80];
    public int type;
    public long value;

    /** One parameter; {@code name} must be shorter than 80 ASCII bytes. */
    public static VirTypedParameter of(String name, int type, long value) {
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= 80) {
            throw new IllegalArgumentException("typed parameter name too long: " + name);
        }
        VirTypedParameter p = new VirTypedParameter();
        System.arraycopy(bytes, 0, p.field, 0, bytes.length);
        p.type = type;
        p.value = value;
        return p;
    }
}
