package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;

/** {@code struct _virNodeInfo}: {@code memory} is KiB. */
@Structure.FieldOrder({"model", "memory", "cpus", "mhz", "nodes", "sockets", "cores", "threads"})
public class VirNodeInfo extends Structure {
    public byte[] model = new byte[32];
    public NativeLong memory;
    public int cpus;
    public int mhz;
    public int nodes;
    public int sockets;
    public int cores;
    public int threads;
}
