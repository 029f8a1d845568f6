/**
 * Our own small JNA binding to {@code libvirt.so.0}: the functions the backend calls
 * ({@link dev.qrexec.xen.libvirt.binding.LibvirtLibrary}), owned wrappers that free what libvirt
 * allocates ({@link dev.qrexec.xen.libvirt.binding.LibvirtConnection},
 * {@link dev.qrexec.xen.libvirt.binding.DomainHandle}), libvirt's errors read on the failing thread
 * ({@link dev.qrexec.xen.libvirt.binding.LibvirtError}) and the process-wide event loop thread
 * ({@link dev.qrexec.xen.libvirt.binding.LibvirtEventLoop}). Nothing here knows about qubes.
 */
package dev.qrexec.xen.libvirt.binding;
