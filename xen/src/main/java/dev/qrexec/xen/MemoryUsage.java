package dev.qrexec.xen;

/**
 * Memory of one qube, in bytes.
 *
 * @param currentBytes what the qube uses now (sandbox: the cgroup's usage; libvirt: current balloon)
 * @param targetBytes  the target last set with {@link Hypervisor#setMemoryTarget}, or the initial memory
 * @param maxBytes     the ceiling from the spec
 */
public record MemoryUsage(long currentBytes, long targetBytes, long maxBytes) {
}
