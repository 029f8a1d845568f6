package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;

/** {@code struct _virDomainInfo}: memory figures are KiB, {@code unsigned long} in C. */
@Structure.FieldOrder({"state", "maxMem", "memory", "nrVirtCpu", "cpuTime"})
public class VirDomainInfo extends Structure {
    public byte state;
    public NativeLong maxMem;
    public NativeLong memory;
    public short nrVirtCpu;
    public long cpuTime;
}
