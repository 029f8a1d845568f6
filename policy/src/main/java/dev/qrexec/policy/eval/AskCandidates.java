package dev.qrexec.policy.eval;

import dev.qrexec.policy.Action;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The targets an ask rule without {@code target=} offers (spec 5.5): walk the rules that match
 * service, argument and source from last to first, adding what allow/ask rules expand to and
 * removing what deny rules expand to, so that earlier rules win; then resolve {@code @dispvm} and
 * {@code @adminvm}, drop the source itself and internal qubes.
 */
final class AskCandidates {

    private AskCandidates() {
    }

    static List<String> collect(RuleIndex.Candidates rules, RequestContext request) throws ReferenceCrash {
        SystemInfo system = request.system();
        String source = request.source();
        QubeInfo sourceQube = request.sourceQube();
        if (sourceQube == null || (!source.startsWith("uuid:") && sourceQube.uuid() == null)) {
            throw new ReferenceCrash("KeyError", "ask candidates for source '" + source
                    + "', which is not a known qube with a uuid");
        }
        String sourceName = sourceQube.name();
        String sourceUuid = source.startsWith("uuid:") ? source : "uuid:" + sourceQube.uuid();

        Set<String> targets = new HashSet<>();
        List<String> expansion = new ArrayList<>();
        rules.fromEnd();
        for (Rule rule = rules.previous(); rule != null; rule = rules.previous()) {
            if (!TokenMatcher.matchesSource(rule.source(), request)) {
                continue;
            }
            expansion.clear();
            expand(rule.effectiveTarget(), system, expansion);
            if (rule.action() == Action.DENY) {
                expansion.forEach(targets::remove);
            } else {
                targets.addAll(expansion);
            }
        }
        if (targets.remove("@dispvm")) {
            String template = request.sourceDefaultDispvm();
            if (template != null) {
                targets.add(QubeToken.DISPVM_PREFIX + template);
            }
        }
        if (targets.remove(QubeToken.ADMINVM)) {
            targets.add(QubeToken.DOM0);
        }
        targets.remove(sourceName);
        targets.remove(sourceUuid);
        List<String> result = new ArrayList<>(targets.size());
        for (String t : targets) {
            String name = t.startsWith(QubeToken.DISPVM_PREFIX) ? t.substring(QubeToken.DISPVM_PREFIX.length()) : t;
            QubeInfo q = system.get(name);
            if (q == null) {
                throw new ReferenceCrash("KeyError", "ask candidate '" + t + "' is not a known qube");
            }
            if (!q.internal()) {
                result.add(t);
            }
        }
        return result;
    }

    /** What a token stands for among the qubes (uuid forms converted to names). */
    static void expand(QubeToken token, SystemInfo system, List<String> out) throws ReferenceCrash {
        switch (token.kind()) {
            case LITERAL -> {
                QubeInfo q = system.get(token.text());
                if (q != null) {
                    out.add(token.text().startsWith("uuid:") ? q.name() : token.text());
                }
            }
            case WILDCARD -> out.addAll(system.askExpansion(true));
            case ANYVM -> out.addAll(system.askExpansion(false));
            case ADMINVM -> out.add(QubeToken.ADMINVM);
            case DEFAULT -> {
                // @default stands for no qube
            }
            case TYPE -> {
                for (QubeInfo q : system.qubes()) {
                    if (token.value().equals(q.type())) {
                        out.add(q.name());
                    }
                }
            }
            case TAG -> {
                for (QubeInfo q : system.qubes()) {
                    if (q.tags().contains(token.value())) {
                        out.add(q.name());
                    }
                }
            }
            case DISPVM -> out.add("@dispvm");
            case DISPVM_TEMPLATE -> {
                QubeInfo q = system.get(token.value());
                if (q == null) {
                    throw new ReferenceCrash("KeyError", "ask expansion of " + token.text()
                            + ": '" + token.value() + "' is not a known qube");
                }
                if (q.templateForDispvms()) {
                    out.add(token.value().startsWith("uuid:") ? QubeToken.DISPVM_PREFIX + q.name() : token.text());
                }
            }
            case DISPVM_TAG -> {
                for (QubeInfo q : system.qubes()) {
                    if (q.templateForDispvms() && q.tags().contains(token.value())) {
                        out.add(QubeToken.DISPVM_PREFIX + q.name());
                    }
                }
            }
            default -> throw new AssertionError(token.kind());
        }
    }
}
