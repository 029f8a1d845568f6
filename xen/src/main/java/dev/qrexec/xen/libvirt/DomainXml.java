package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.QubeSpec;

import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * Generates the libvirt domain XML of a qube from its {@link QubeSpec}.
 *
 * <p>Memory follows Qubes OS: {@code <memory>} is the ceiling the qube may balloon up to
 * (the spec's {@code maxMemoryMiB}) and {@code <currentMemory>} the initial balloon target
 * ({@code memoryMiB}). libvirt's separate {@code <maxMemory slots=...>} element describes memory
 * <em>hotplug</em> (DIMM slots), which neither Qubes nor Xen ballooning uses, so it is not emitted.
 *
 * <p>Disks, in Qubes order: root (template, read-only), private, volatile. Each is present only
 * when the spec (or, for volatile, the configured storage directory) gives it a path. A path
 * under {@code /dev/} becomes a block disk, anything else a file disk.
 */
final class DomainXml {

    private DomainXml() {
    }

    /**
     * @param volatileImage path of the volatile image, if the backend keeps one for this qube
     */
    static String of(QubeSpec spec, String instance, UUID uuid, DomainFlavor flavor, Optional<Path> volatileImage) {
        return of(spec, instance, uuid, flavor, volatileImage, Optional.empty());
    }

    /**
     * @param volatileImage path of the volatile image, if the backend keeps one for this qube
     * @param boot          the kernel to boot directly, if the backend is given one
     */
    static String of(QubeSpec spec, String instance, UUID uuid, DomainFlavor flavor, Optional<Path> volatileImage,
                     Optional<BootImage> boot) {
        StringBuilder b = new StringBuilder(1024);
        b.append("<domain type='").append(flavor.domainType()).append("'>\n");
        b.append("  <name>").append(Xml.escape("qube name", spec.name())).append("</name>\n");
        b.append("  <uuid>").append(uuid).append("</uuid>\n");
        b.append("  <metadata>\n");
        b.append(new QubeMetadata(instance, spec).toXml(4));
        b.append("  </metadata>\n");
        b.append("  <memory unit='KiB'>").append(spec.maxMemoryMiB() * 1024).append("</memory>\n");
        b.append("  <currentMemory unit='KiB'>").append(spec.memoryMiB() * 1024).append("</currentMemory>\n");
        b.append("  <vcpu placement='static'>").append(spec.vcpus()).append("</vcpu>\n");
        b.append("  <os>\n");
        b.append("    <type>").append(flavor.osType()).append("</type>\n");
        if (boot.isPresent()) {
            BootImage k = boot.get();
            b.append("    <kernel>").append(Xml.escape("kernel path", k.kernel().toString())).append("</kernel>\n");
            if (k.initrd().isPresent()) {
                b.append("    <initrd>").append(Xml.escape("initrd path", k.initrd().get().toString()))
                        .append("</initrd>\n");
            }
            if (!k.cmdline().isEmpty()) {
                b.append("    <cmdline>").append(Xml.escape("kernel command line", k.cmdline())).append("</cmdline>\n");
            }
        }
        b.append("  </os>\n");
        // A qube never reboots by itself: whoever wants it back starts it again.
        b.append("  <on_poweroff>destroy</on_poweroff>\n");
        b.append("  <on_reboot>destroy</on_reboot>\n");
        b.append("  <on_crash>destroy</on_crash>\n");
        b.append("  <devices>\n");
        int index = 0;
        if (spec.templateRoot().isPresent()) {
            disk(b, flavor, index++, spec.templateRoot().get(), true);
        }
        if (spec.privateStorage().isPresent()) {
            disk(b, flavor, index++, spec.privateStorage().get(), false);
        }
        if (volatileImage.isPresent() && spec.volatileSizeMiB() > 0) {
            disk(b, flavor, index, volatileImage.get(), false);
        }
        b.append("    <console type='pty'>\n");
        b.append("      <target type='").append(flavor.consoleTarget()).append("' port='0'/>\n");
        b.append("    </console>\n");
        b.append("  </devices>\n");
        b.append("</domain>\n");
        return b.toString();
    }

    private static void disk(StringBuilder b, DomainFlavor flavor, int index, Path path, boolean readOnly) {
        boolean block = path.startsWith("/dev/");
        String p = Xml.escape("disk path", path.toString());
        b.append("    <disk type='").append(block ? "block" : "file").append("' device='disk'>\n");
        b.append("      <source ").append(block ? "dev" : "file").append("='").append(p).append("'/>\n");
        b.append("      <target dev='").append(flavor.diskDevice(index)).append("' bus='")
                .append(flavor.diskBus()).append("'/>\n");
        if (readOnly) {
            b.append("      <readonly/>\n");
        }
        b.append("    </disk>\n");
    }
}
