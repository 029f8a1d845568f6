package dev.qrexec.policy.system;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Immutable view of an {@code internal.GetSystemInfo} reply (spec 6): the qubes by name, plus a
 * {@code uuid:<uuid>} alias key for every qube that has a uuid, as the reference adds them.
 * Safe to share between threads.
 */
public final class SystemInfo {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<QubeInfo> qubes;
    private final Map<String, QubeInfo> byKey;
    /** Lazily computed ask expansions of {@code *} and {@code @anyvm}; a benign race computes them twice at worst. */
    private volatile List<String> wildcardExpansion;
    private volatile List<String> anyvmExpansion;
    private volatile CandidateSpace candidateSpace;

    private SystemInfo(List<QubeInfo> qubes) {
        this.qubes = List.copyOf(qubes);
        Map<String, QubeInfo> keys = new HashMap<>(qubes.size() * 4);
        for (QubeInfo q : qubes) {
            keys.put(q.name(), q);
        }
        for (QubeInfo q : qubes) {
            if (q.uuid() != null) {
                keys.put("uuid:" + q.uuid(), q);
            }
        }
        this.byKey = Collections.unmodifiableMap(keys);
    }

    /** A system of these qubes (names must be unique). */
    public static SystemInfo of(List<QubeInfo> qubes) {
        Set<String> names = new LinkedHashSet<>();
        for (QubeInfo q : qubes) {
            if (!names.add(q.name())) {
                throw new IllegalArgumentException("duplicate qube name: " + q.name());
            }
        }
        return new SystemInfo(qubes);
    }

    /** An empty system (no qubes at all). */
    public static SystemInfo empty() {
        return new SystemInfo(List.of());
    }

    /** Parses the JSON text of a GetSystemInfo reply. */
    public static SystemInfo fromJson(String json) {
        try {
            return fromJson(JSON.readTree(json));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("system info is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads {@code {"domains": {name: {...}, ...}}}. Unknown properties are ignored. */
    public static SystemInfo fromJson(JsonNode root) {
        JsonNode domains = root == null ? null : root.get("domains");
        if (domains == null || !domains.isObject()) {
            throw new IllegalArgumentException("system info has no \"domains\" object");
        }
        List<QubeInfo> qubes = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : domains.properties()) {
            if (e.getKey().startsWith("uuid:")) {
                continue; // an alias already added by someone else; we add our own
            }
            qubes.add(qube(e.getKey(), e.getValue()));
        }
        return new SystemInfo(qubes);
    }

    private static QubeInfo qube(String name, JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("system info entry of qube '" + name + "' is not an object");
        }
        Set<String> tags = new LinkedHashSet<>();
        JsonNode tagNode = node.get("tags");
        if (tagNode != null && tagNode.isArray()) {
            tagNode.forEach(t -> tags.add(t.asText()));
        }
        return new QubeInfo(name, text(node, "type"), tags, truthy(node.get("template_for_dispvms")),
                text(node, "default_dispvm"), text(node, "icon"), text(node, "guivm"), node.has("guivm"),
                text(node, "relayvm"), text(node, "transport_rpc"), text(node, "power_state"),
                text(node, "uuid"), truthy(node.get("internal")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** Python truthiness of a JSON value: null, false, 0, "" and empty containers are false. */
    private static boolean truthy(JsonNode v) {
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isNumber()) {
            return v.doubleValue() != 0;
        }
        if (v.isTextual()) {
            return !v.textValue().isEmpty();
        }
        return v.size() > 0;
    }

    /** The qube named {@code key} (a name or {@code uuid:<uuid>}), or null. */
    public QubeInfo get(String key) {
        return byKey.get(key);
    }

    /** Whether {@code key} is a qube name or a {@code uuid:} alias. */
    public boolean contains(String key) {
        return byKey.containsKey(key);
    }

    /** All qubes, in the order of the reply, without aliases. */
    public List<QubeInfo> qubes() {
        return qubes;
    }

    /** Every key: names and {@code uuid:} aliases. */
    public Set<String> keys() {
        return byKey.keySet();
    }

    /**
     * What {@code *} offers in an ask (spec 5.5): every qube name, {@code @dispvm:T} for each
     * disposable template T, and {@code @dispvm}; with {@code includeDom0 == false} the
     * {@code @anyvm} variant without dom0.
     */
    public List<String> askExpansion(boolean includeDom0) {
        List<String> cached = includeDom0 ? wildcardExpansion : anyvmExpansion;
        if (cached == null) {
            List<String> out = new ArrayList<>(qubes.size() + 4);
            for (QubeInfo q : qubes) {
                if (includeDom0 || !q.name().equals("dom0")) {
                    out.add(q.name());
                }
                if (q.templateForDispvms()) {
                    out.add("@dispvm:" + q.name());
                }
            }
            out.add("@dispvm");
            cached = List.copyOf(out);
            if (includeDom0) {
                wildcardExpansion = cached;
            } else {
                anyvmExpansion = cached;
            }
        }
        return cached;
    }

    /** The numbered ask candidates of this system (computed on first use). */
    public CandidateSpace candidateSpace() {
        CandidateSpace space = candidateSpace;
        if (space == null) {
            space = new CandidateSpace(qubes);
            candidateSpace = space;
        }
        return space;
    }

    @Override
    public String toString() {
        return "SystemInfo[" + qubes.size() + " qubes]";
    }
}
