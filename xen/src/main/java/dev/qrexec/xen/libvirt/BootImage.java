package dev.qrexec.xen.libvirt;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The kernel a PVH (or direct-boot KVM) qube boots, as Qubes gives every domain one from
 * {@code /var/lib/qubes/vm-kernels/<version>/}: {@code <kernel>}, {@code <initrd>} and
 * {@code <cmdline>} in the domain's {@code <os>}. The spec has no kernel, so it is a setting of
 * the backend, shared by its qubes.
 *
 * @param kernel  the kernel image, an absolute path on the host
 * @param initrd  its initramfs, if any
 * @param cmdline the kernel command line (may be empty)
 */
public record BootImage(Path kernel, Optional<Path> initrd, String cmdline) {

    public BootImage {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        if (!kernel.isAbsolute()) {
            throw new IllegalArgumentException("kernel must be an absolute path, was " + kernel);
        }
        if (initrd.isPresent() && !initrd.get().isAbsolute()) {
            throw new IllegalArgumentException("initrd must be an absolute path, was " + initrd.get());
        }
        Xml.escape("kernel command line", cmdline);  // refuses what XML cannot carry, now rather than at define
    }
}
