package dev.qrexec.dispvm.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.function.Function;

/** Renders a {@link RegistryState} as {@code internal.GetSystemInfo} JSON; caches the last one. */
final class SystemInfoRenderer {

    private final ObjectMapper mapper = new ObjectMapper();
    private volatile SystemInfo cached;

    SystemInfo cached() {
        return cached;
    }

    void cache(SystemInfo info) {
        SystemInfo c = cached;
        if (c == null || c.version() < info.version()) {
            cached = info;
        }
    }

    SystemInfo render(long version, RegistryState s, Function<String, String> power) {
        ObjectNode root = mapper.createObjectNode();
        ObjectNode domains = root.putObject("domains");
        for (Qube q : s.qubes().values()) {
            ObjectNode d = domains.putObject(q.name());
            d.putArray("tags").addAll(q.tags().stream().map(t -> mapper.getNodeFactory().textNode(t)).toList());
            d.put("type", q.klass().typeName());
            d.put("template_for_dispvms", s.isDispvmTemplate(q.name()));
            putRef(d, "default_dispvm", s.property(q, PropertyRules.DEFAULT_DISPVM));
            d.put("icon", s.property(q, "icon"));
            d.put("label", s.property(q, PropertyRules.LABEL));
            putRef(d, "guivm", PropertyRules.exists(q.klass(), PropertyRules.GUIVM)
                    ? s.property(q, PropertyRules.GUIVM) : "");
            putRef(d, "relayvm", PropertyRules.exists(q.klass(), PropertyRules.RELAYVM)
                    ? s.property(q, PropertyRules.RELAYVM) : "");
            putRef(d, "transport_rpc", PropertyRules.exists(q.klass(), PropertyRules.TRANSPORT_RPC)
                    ? s.property(q, PropertyRules.TRANSPORT_RPC) : "");
            d.put("power_state", power.apply(q.name()));
            d.put("uuid", q.uuid().toString());
            if (q.featureTrue(Features.INTERNAL)) {
                d.put("internal", true);
            } else {
                d.putNull("internal");
            }
        }
        try {
            return new SystemInfo(version, mapper.writeValueAsString(root), root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render system info", e);
        }
    }

    private static void putRef(ObjectNode d, String key, String value) {
        if (value == null || value.isEmpty()) {
            d.putNull(key);
        } else {
            d.put(key, value);
        }
    }
}
