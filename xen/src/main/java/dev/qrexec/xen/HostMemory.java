package dev.qrexec.xen;

/**
 * Memory of the host as the backend accounts it, in bytes.
 *
 * @param totalBytes host memory available to qubes
 * @param freeBytes  not yet given to any qube
 */
public record HostMemory(long totalBytes, long freeBytes) {
}
