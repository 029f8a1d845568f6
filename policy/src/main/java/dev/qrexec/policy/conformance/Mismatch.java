package dev.qrexec.policy.conformance;

import java.util.Map;

/**
 * One conformance case where the engine disagrees with the reference.
 *
 * @param caseId   the policy directory's id in the cases file
 * @param index    the request's position in that directory's cases
 * @param request  the request, as in the cases file
 * @param expected the reference's answer (the compared fields)
 * @param actual   ours (the same fields)
 */
public record Mismatch(String caseId, int index, String request, Map<String, Object> expected,
                       Map<String, Object> actual) {

    /** A readable diff: one line per differing field. */
    public String diff() {
        StringBuilder out = new StringBuilder();
        out.append(caseId).append('#').append(index).append(' ').append(request).append('\n');
        java.util.Set<String> keys = new java.util.TreeSet<>(expected.keySet());
        keys.addAll(actual.keySet());
        for (String k : keys) {
            Object e = expected.get(k);
            Object a = actual.get(k);
            if (!java.util.Objects.equals(e, a)) {
                out.append("    ").append(k).append(": expected ").append(show(e)).append(", got ").append(show(a))
                        .append('\n');
            }
        }
        return out.toString();
    }

    private static String show(Object o) {
        return o instanceof String s ? "\"" + s.replace("\n", "\\n") + "\"" : String.valueOf(o);
    }
}
