/**
 * The hypervisor layer's service provider interface: the one way the rest of the system creates,
 * starts, pauses, resumes, measures and destroys qubes.
 *
 * <p>Backends live in sub-packages ({@code sim}, {@code sandbox}, {@code libvirt}); the vchan-socket
 * transport lives in {@code transport}. Everything above this package (disposables, preloading, the
 * broker) sees only {@link dev.qrexec.xen.Hypervisor}.
 */
package dev.qrexec.xen;
