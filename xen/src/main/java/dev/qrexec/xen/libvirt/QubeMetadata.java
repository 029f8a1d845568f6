package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.QubeSpec;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Our {@code <metadata>} element: which backend instance owns the domain, and the whole
 * {@link QubeSpec}, so that a restarted daemon finds its qubes (and only its qubes) again and
 * knows exactly how they were defined.
 *
 * <pre>{@code
 * <qrexec:qube xmlns:qrexec='https://qrexec.dev/xmlns/libvirt-qube/1' instance='daemon-a' domid='12'
 *              memory-mib='400' max-memory-mib='4000' vcpus='2' volatile-mib='1024' discard-on-stop='false'>
 *   <qrexec:template-root path='/var/lib/qubes/vm-templates/fedora/root.img'/>
 *   <qrexec:private-storage path='...'/> <qrexec:private-source path='...'/> <qrexec:channel-dir path='...'/>
 *   <qrexec:init><qrexec:arg>/usr/lib/qubes/qrexec-agent</qrexec:arg></qrexec:init>
 *   <qrexec:env name='LANG'>C.UTF-8</qrexec:env>
 * </qrexec:qube>
 * }</pre>
 */
record QubeMetadata(String instance, QubeSpec spec) {

    /** Our namespace; libvirt keys metadata elements by namespace URI. */
    static final String NAMESPACE = "https://qrexec.dev/xmlns/libvirt-qube/1";
    static final String PREFIX = "qrexec";

    QubeMetadata {
        Objects.requireNonNull(instance, "instance");
        Objects.requireNonNull(spec, "spec");
    }

    /** The element, indented by {@code indent} spaces. */
    String toXml(int indent) {
        String pad = " ".repeat(indent);
        String p = PREFIX + ":";
        StringBuilder b = new StringBuilder();
        b.append(pad).append('<').append(p).append("qube xmlns:").append(PREFIX).append("='").append(NAMESPACE)
                .append("' instance='").append(Xml.escape("instance name", instance))
                .append("' domid='").append(spec.domainId())
                .append("' memory-mib='").append(spec.memoryMiB())
                .append("' max-memory-mib='").append(spec.maxMemoryMiB())
                .append("' vcpus='").append(spec.vcpus())
                .append("' volatile-mib='").append(spec.volatileSizeMiB())
                .append("' discard-on-stop='").append(spec.discardOnStop()).append("'>\n");
        String inner = pad + "  ";
        path(b, inner, "template-root", spec.templateRoot().orElse(null));
        path(b, inner, "private-storage", spec.privateStorage().orElse(null));
        path(b, inner, "private-source", spec.privateSource().orElse(null));
        path(b, inner, "channel-dir", spec.channelDir().orElse(null));
        if (!spec.init().isEmpty()) {
            b.append(inner).append('<').append(p).append("init>");
            for (String arg : spec.init()) {
                b.append('<').append(p).append("arg>").append(Xml.escape("init argument", arg))
                        .append("</").append(p).append("arg>");
            }
            b.append("</").append(p).append("init>\n");
        }
        for (Map.Entry<String, String> e : new TreeMap<>(spec.environment()).entrySet()) {
            b.append(inner).append('<').append(p).append("env name='")
                    .append(Xml.escape("environment name", e.getKey())).append("'>")
                    .append(Xml.escape("environment value of " + e.getKey(), e.getValue()))
                    .append("</").append(p).append("env>\n");
        }
        b.append(pad).append("</").append(p).append("qube>\n");
        return b.toString();
    }

    private static void path(StringBuilder b, String pad, String element, Path path) {
        if (path != null) {
            b.append(pad).append('<').append(PREFIX).append(':').append(element).append(" path='")
                    .append(Xml.escape(element, path.toString())).append("'/>\n");
        }
    }

    /**
     * Reads the element back for the domain {@code name}: either a whole domain XML (the element is
     * found by our namespace) or the element alone as {@code virDomainGetMetadata} returns it, which
     * libvirt hands out with its namespace stripped (libvirt already selected it by namespace).
     * IllegalArgumentException says what is wrong when it is damaged; a spec that no longer
     * validates fails the same way.
     */
    static QubeMetadata parse(String name, String xml) {
        Document doc = Xml.parse(xml);
        NodeList found = doc.getElementsByTagNameNS(NAMESPACE, "qube");
        Element q;
        if (found.getLength() == 1) {
            q = (Element) found.item(0);
        } else if (found.getLength() == 0 && doc.getDocumentElement().getNamespaceURI() == null
                && "qube".equals(doc.getDocumentElement().getLocalName())) {
            q = doc.getDocumentElement();
        } else {
            throw new IllegalArgumentException("expected one qube element in namespace " + NAMESPACE
                    + ", found " + found.getLength());
        }
        String ns = q.getNamespaceURI();
        QubeSpec.Builder spec = QubeSpec.builder(name, intAttribute(q, "domid"))
                .memoryMiB(longAttribute(q, "memory-mib"))
                .maxMemoryMiB(longAttribute(q, "max-memory-mib"))
                .vcpus(intAttribute(q, "vcpus"))
                .volatileSizeMiB(longAttribute(q, "volatile-mib"))
                .discardOnStop(Boolean.parseBoolean(required(q, "discard-on-stop")));
        List<String> init = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>();
        for (Node n = q.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element e) || !Objects.equals(ns, e.getNamespaceURI())) {
                continue;
            }
            switch (e.getLocalName()) {
                case "template-root" -> spec.templateRoot(Path.of(required(e, "path")));
                case "private-storage" -> spec.privateStorage(Path.of(required(e, "path")));
                case "private-source" -> spec.privateSource(Path.of(required(e, "path")));
                case "channel-dir" -> spec.channelDir(Path.of(required(e, "path")));
                case "init" -> {
                    for (Node a = e.getFirstChild(); a != null; a = a.getNextSibling()) {
                        if (a instanceof Element arg && Objects.equals(ns, arg.getNamespaceURI())
                                && "arg".equals(arg.getLocalName())) {
                            init.add(arg.getTextContent());
                        }
                    }
                }
                case "env" -> env.put(required(e, "name"), e.getTextContent());
                default -> throw new IllegalArgumentException("unknown element '" + e.getLocalName()
                        + "' in qube metadata of " + name);
            }
        }
        return new QubeMetadata(required(q, "instance"), spec.init(init).environment(env).build());
    }

    private static String required(Element e, String attribute) {
        if (!e.hasAttribute(attribute)) {
            throw new IllegalArgumentException("qube metadata element '" + e.getLocalName()
                    + "' lacks attribute '" + attribute + "'");
        }
        return e.getAttribute(attribute);
    }

    private static long longAttribute(Element e, String attribute) {
        String v = required(e, attribute);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("qube metadata attribute '" + attribute + "' is not a number: '"
                    + v + "'", ex);
        }
    }

    private static int intAttribute(Element e, String attribute) {
        long v = longAttribute(e, attribute);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("qube metadata attribute '" + attribute + "' out of range: " + v);
        }
        return (int) v;
    }
}
