package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/**
 * The leading fields of {@code struct _virError} (we only read, and libvirt owns the memory, so
 * mapping a prefix is safe).
 */
@Structure.FieldOrder({"code", "domain", "message", "level"})
public class VirError extends Structure {
    public int code;
    public int domain;
    public String message;
    public int level;

    public VirError() {
    }

    public VirError(Pointer p) {
        super(p);
        read();
    }
}
