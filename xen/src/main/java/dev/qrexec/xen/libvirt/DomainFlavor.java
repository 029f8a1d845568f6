package dev.qrexec.xen.libvirt;

import java.net.URI;
import java.util.Locale;

/**
 * What differs in the domain XML between libvirt drivers: the domain type, the OS type, disk
 * naming and bus, and the console target.
 */
public enum DomainFlavor {
    /** {@code xen:///system}: a PVH domain as Qubes OS 4.2 defines them, xvd* disks on the Xen bus. */
    XEN("xen", "xenpvh", "xvd", "xen", "xen"),
    /** {@code qemu:///system}: a KVM guest, virtio disks, serial console. */
    KVM("kvm", "hvm", "vd", "virtio", "serial"),
    /** {@code test:///default}: libvirt's in-process test driver, given the Xen-shaped guest. */
    TEST("test", "xen", "xvd", "xen", "xen");

    private final String domainType;
    private final String osType;
    private final String diskPrefix;
    private final String diskBus;
    private final String consoleTarget;

    DomainFlavor(String domainType, String osType, String diskPrefix, String diskBus, String consoleTarget) {
        this.domainType = domainType;
        this.osType = osType;
        this.diskPrefix = diskPrefix;
        this.diskBus = diskBus;
        this.consoleTarget = consoleTarget;
    }

    /** The flavor of a connection URI's driver: {@code xen}, {@code qemu}/{@code kvm}, {@code test}. */
    public static DomainFlavor forUri(String uri) {
        String scheme = URI.create(uri).getScheme();
        if (scheme == null) {
            throw new IllegalArgumentException("libvirt URI '" + uri + "' has no scheme (want xen:///system, "
                    + "qemu:///system or test:///default)");
        }
        String driver = scheme.toLowerCase(Locale.ROOT);
        int plus = driver.indexOf('+');
        if (plus >= 0) {
            driver = driver.substring(0, plus);  // xen+ssh://host/system
        }
        return switch (driver) {
            case "xen", "libxl" -> XEN;
            case "qemu", "kvm" -> KVM;
            case "test" -> TEST;
            default -> throw new IllegalArgumentException("libvirt URI '" + uri + "': driver '" + driver
                    + "' is not supported (want xen, qemu or test)");
        };
    }

    public String domainType() { return domainType; }

    public String osType() { return osType; }

    /** Guest device name of the n-th disk (0 = root): xvda, xvdb, ... or vda, vdb, ... */
    public String diskDevice(int index) { return diskPrefix + (char) ('a' + index); }

    public String diskBus() { return diskBus; }

    public String consoleTarget() { return consoleTarget; }
}
