/**
 * The {@code libvirt} hypervisor backend: qubes as libvirt domains, on {@code xen:///system} (a
 * Qubes/Xen host), {@code qemu:///system}, or the in-process test driver {@code test:///default}.
 *
 * <p>Entry points: {@link dev.qrexec.xen.libvirt.LibvirtHypervisor#open} with a
 * {@link dev.qrexec.xen.libvirt.LibvirtConfig}, or {@code Hypervisors.create} with
 * {@code libvirt:uri=...} ({@link dev.qrexec.xen.libvirt.LibvirtHypervisorProvider}). The JNA
 * binding to {@code libvirt.so.0} lives in {@code binding}; docs/architecture/xen-libvirt.md
 * explains threads, XML, ownership and events.
 */
package dev.qrexec.xen.libvirt;
