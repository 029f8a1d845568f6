package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.QubeSpec;
import dev.qrexec.xen.libvirt.binding.DomainHandle;
import dev.qrexec.xen.libvirt.binding.LibvirtConnection;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DomainXmlTest {

    private static final UUID UUID_1 = UUID.fromString("2f4a6c1e-9b8d-4e3f-a1b2-c3d4e5f60718");

    /** A disposable with every field set, paths with characters XML must escape. */
    static QubeSpec fullSpec(String name) {
        return QubeSpec.builder(name, 42)
                .memoryMiB(400).maxMemoryMiB(4000).vcpus(2).volatileSizeMiB(1024)
                .templateRoot(Path.of("/var/lib/qubes/vm-templates/fedora-40/root.img"))
                .privateStorage(Path.of("/var/lib/qubes/appvms/" + name + "/private.img"))
                .privateSource(Path.of("/var/lib/qubes/appvms/default-dvm/private&<'\">.img"))
                .channelDir(Path.of("/run/qrexec/" + name))
                .discardOnStop(true)
                .init(List.of("/usr/lib/qubes/qrexec-agent", "--debug", "a <b> & 'c'"))
                .environment(Map.of("LANG", "C.UTF-8", "QREXEC_NAME", name))
                .build();
    }

    @Test
    void xenDomainMatchesTheGoldenFile() throws IOException {
        String xml = DomainXml.of(fullSpec("disp1234"), "daemon-a", UUID_1, DomainFlavor.XEN,
                Optional.of(Path.of("/var/lib/qrexec/storage/disp1234/volatile.img")));
        assertEquals(golden("disp1234-xen.xml"), xml);
    }

    @Test
    void generatedXmlParsesBackToTheSpecAndItsDevices() {
        QubeSpec spec = fullSpec("disp77");
        String xml = DomainXml.of(spec, "daemon-a", UUID_1, DomainFlavor.XEN,
                Optional.of(Path.of("/srv/vol.img")));
        Document doc = Xml.parse(xml);
        Element root = doc.getDocumentElement();
        assertEquals("xen", root.getAttribute("type"));
        assertEquals("disp77", text(doc, "name"));
        assertEquals(UUID_1.toString(), text(doc, "uuid"));
        assertEquals(String.valueOf(4000L * 1024), text(doc, "memory"));
        assertEquals(String.valueOf(400L * 1024), text(doc, "currentMemory"));
        assertEquals("2", text(doc, "vcpu"));
        assertEquals("xenpvh", text(doc, "type"));
        NodeList disks = doc.getElementsByTagName("disk");
        assertEquals(3, disks.getLength());
        assertDisk((Element) disks.item(0), "/var/lib/qubes/vm-templates/fedora-40/root.img", "xvda", true);
        assertDisk((Element) disks.item(1), "/var/lib/qubes/appvms/disp77/private.img", "xvdb", false);
        assertDisk((Element) disks.item(2), "/srv/vol.img", "xvdc", false);
        assertEquals(1, doc.getElementsByTagName("console").getLength());

        QubeMetadata meta = QubeMetadata.parse("disp77", xml);
        assertEquals("daemon-a", meta.instance());
        assertEquals(spec, meta.spec());
    }

    @Test
    void minimalSpecHasNoDisksAndKvmUsesVirtio() {
        QubeSpec spec = QubeSpec.builder("min", 3).volatileSizeMiB(0).build();
        String xml = DomainXml.of(spec, "i", UUID_1, DomainFlavor.KVM, Optional.of(Path.of("/unused")));
        Document doc = Xml.parse(xml);
        assertEquals("kvm", doc.getDocumentElement().getAttribute("type"));
        assertEquals("hvm", text(doc, "type"));
        assertEquals(0, doc.getElementsByTagName("disk").getLength());
        assertEquals(spec, QubeMetadata.parse("min", xml).spec());

        QubeSpec withPrivate = QubeSpec.builder("p", 4).privateStorage(Path.of("/dev/vg/p-private")).build();
        Element disk = (Element) Xml.parse(DomainXml.of(withPrivate, "i", UUID_1, DomainFlavor.KVM, Optional.empty()))
                .getElementsByTagName("disk").item(0);
        assertEquals("block", disk.getAttribute("type"));
        assertEquals("/dev/vg/p-private", ((Element) disk.getElementsByTagName("source").item(0)).getAttribute("dev"));
        assertEquals("vda", ((Element) disk.getElementsByTagName("target").item(0)).getAttribute("dev"));
    }

    @Test
    void libvirtAcceptsTheXmlAndKeepsOurMetadata() {
        LibvirtTestSupport.libvirtOrSkip();
        String name = LibvirtTestSupport.uniqueName("xml");
        QubeSpec spec = fullSpec(name);
        String xml = DomainXml.of(spec, "daemon-a", UUID_1, DomainFlavor.TEST, Optional.of(Path.of("/srv/v.img")));
        try (LibvirtConnection conn = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), "test:///default");
             DomainHandle d = conn.define(name, xml)) {
            try {
                assertEquals(UUID_1.toString(), d.uuid());
                String metadata = d.metadata(QubeMetadata.NAMESPACE);
                assertNotNull(metadata);
                assertEquals(new QubeMetadata("daemon-a", spec), QubeMetadata.parse(name, metadata));
                assertEquals(spec, QubeMetadata.parse(name, d.xml()).spec());
                assertEquals(3, Xml.parse(d.xml()).getElementsByTagName("disk").getLength());
            } finally {
                d.undefine(0);
            }
        }
    }

    @Test
    void aBootImageGoesIntoOsAndLibvirtKeepsIt() {
        BootImage boot = new BootImage(Path.of("/var/lib/qubes/vm-kernels/6.6.48-1/vmlinuz"),
                Optional.of(Path.of("/var/lib/qubes/vm-kernels/6.6.48-1/initramfs")), "root=/dev/xvda ro console=hvc0");
        QubeSpec spec = QubeSpec.builder(LibvirtTestSupport.uniqueName("boot"), 9).build();
        String xml = DomainXml.of(spec, "i", UUID_1, DomainFlavor.TEST, Optional.empty(), Optional.of(boot));
        Document doc = Xml.parse(xml);
        assertEquals("/var/lib/qubes/vm-kernels/6.6.48-1/vmlinuz", text(doc, "kernel"));
        assertEquals("/var/lib/qubes/vm-kernels/6.6.48-1/initramfs", text(doc, "initrd"));
        assertEquals("root=/dev/xvda ro console=hvc0", text(doc, "cmdline"));
        try (LibvirtConnection conn = LibvirtConnection.open(LibvirtTestSupport.libvirtOrSkip(), "test:///default");
             DomainHandle d = conn.define(spec.name(), xml)) {
            try {
                Document back = Xml.parse(d.xml());
                assertEquals("/var/lib/qubes/vm-kernels/6.6.48-1/vmlinuz", text(back, "kernel"));
                assertEquals("root=/dev/xvda ro console=hvc0", text(back, "cmdline"));
            } finally {
                d.undefine(0);
            }
        }
        IllegalArgumentException relative = assertThrows(IllegalArgumentException.class,
                () -> new BootImage(Path.of("vmlinuz"), Optional.empty(), ""));
        assertEquals("kernel must be an absolute path, was vmlinuz", relative.getMessage());
    }

    @Test
    void characterXmlCannotCarryIsRefusedWithItsCodePoint() {
        QubeSpec spec = QubeSpec.builder("bad", 5).init(List.of("a\u0001b")).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DomainXml.of(spec, "i", UUID_1, DomainFlavor.XEN, Optional.empty()));
        assertTrue(e.getMessage().contains("U+0001"), e.getMessage());
    }

    @Test
    void damagedMetadataIsRefusedWithAReason() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> QubeMetadata.parse("x", "<metadata/>"));
        assertTrue(missing.getMessage().contains("found 0"), missing.getMessage());
        String noDomid = "<q:qube xmlns:q='" + QubeMetadata.NAMESPACE + "' instance='a' memory-mib='1'/>";
        IllegalArgumentException attr = assertThrows(IllegalArgumentException.class,
                () -> QubeMetadata.parse("x", noDomid));
        assertTrue(attr.getMessage().contains("'domid'"), attr.getMessage());
        String notNumber = "<q:qube xmlns:q='" + QubeMetadata.NAMESPACE + "' instance='a' domid='x'/>";
        assertThrows(IllegalArgumentException.class, () -> QubeMetadata.parse("x", notNumber));
        assertThrows(IllegalArgumentException.class, () -> QubeMetadata.parse("x", "<unclosed"));
        String withDoctype = "<!DOCTYPE q [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><q>&e;</q>";
        assertThrows(IllegalArgumentException.class, () -> QubeMetadata.parse("x", withDoctype));
    }

    private static void assertDisk(Element disk, String path, String dev, boolean readOnly) {
        assertEquals("file", disk.getAttribute("type"));
        assertEquals(path, ((Element) disk.getElementsByTagName("source").item(0)).getAttribute("file"));
        Element target = (Element) disk.getElementsByTagName("target").item(0);
        assertEquals(dev, target.getAttribute("dev"));
        assertEquals("xen", target.getAttribute("bus"));
        assertEquals(readOnly, disk.getElementsByTagName("readonly").getLength() == 1);
        assertFalse(path.isEmpty());
    }

    private static String text(Document doc, String tag) {
        return doc.getElementsByTagName(tag).item(0).getTextContent();
    }

    private static String golden(String file) throws IOException {
        try (InputStream in = DomainXmlTest.class.getResourceAsStream(file)) {
            assertNotNull(in, "golden file " + file + " missing");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
