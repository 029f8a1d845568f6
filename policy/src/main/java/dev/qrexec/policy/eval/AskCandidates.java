package dev.qrexec.policy.eval;

import dev.qrexec.policy.Action;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.CandidateSpace;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The targets an ask rule without {@code target=} offers (spec 5.5): walk the rules that match
 * service, argument and source from last to first, adding what allow/ask rules expand to and
 * removing what deny rules expand to, so that earlier rules win; then resolve {@code @dispvm} and
 * {@code @adminvm}, drop the source itself and internal qubes.
 *
 * <p>Sets are bit sets over the system's {@link CandidateSpace} (uuid forms are converted to
 * names, as the reference does, so every candidate has a bit); the space is sorted, so the result
 * comes out in the order the ask shows it.
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
        CandidateSpace space = system.candidateSpace();
        long[] targets = space.newSet();
        long[] scratch = space.newSet();
        rules.fromEnd();
        for (CompiledRule compiled = rules.previousCompiled(); compiled != null; compiled = rules.previousCompiled()) {
            if (!compiled.matchesSource(request)) {
                continue;
            }
            Rule rule = compiled.rule;
            long[] expansion = expand(rule.effectiveTarget(), system, space, scratch);
            if (rule.action() == Action.DENY) {
                for (int i = 0; i < targets.length; i++) {
                    targets[i] &= ~expansion[i];
                }
            } else {
                for (int i = 0; i < targets.length; i++) {
                    targets[i] |= expansion[i];
                }
            }
        }
        String extra = null;
        if (CandidateSpace.isSet(targets, space.dispvmKeywordBit())) {
            // resolved after the walk, so a deny on @dispvm:D does not remove a @dispvm-derived @dispvm:D
            CandidateSpace.clear(targets, space.dispvmKeywordBit());
            String template = request.sourceDefaultDispvm();
            if (template != null) {
                QubeInfo q = system.get(template);
                if (q == null) {
                    throw new ReferenceCrash("KeyError", "ask candidate '@dispvm:" + template + "' is not a known qube");
                }
                if (template.startsWith("uuid:")) {
                    extra = q.internal() ? null : QubeToken.DISPVM_PREFIX + template;
                } else {
                    CandidateSpace.set(targets, space.dispvmBit(q));
                }
            }
        }
        if (CandidateSpace.isSet(targets, space.adminvmBit())) {
            CandidateSpace.clear(targets, space.adminvmBit());
            QubeInfo dom0 = system.get(QubeToken.DOM0);
            if (dom0 == null) {
                throw new ReferenceCrash("KeyError", "ask candidate 'dom0' is not a known qube");
            }
            CandidateSpace.set(targets, space.nameBit(dom0));
        }
        CandidateSpace.clear(targets, space.nameBit(sourceQube));
        List<String> result = new ArrayList<>();
        for (int w = 0; w < targets.length; w++) {
            for (long bits = targets[w]; bits != 0; bits &= bits - 1) {
                int bit = (w << 6) + Long.numberOfTrailingZeros(bits);
                if (!space.qube(bit).internal()) {
                    result.add(space.string(bit));
                }
            }
        }
        if (extra != null) {
            result.add(extra);
            Collections.sort(result);
        }
        return result;
    }

    /** What a token stands for among the candidates: a shared set for {@code *}/{@code @anyvm}, else {@code scratch}. */
    private static long[] expand(QubeToken token, SystemInfo system, CandidateSpace space, long[] scratch)
            throws ReferenceCrash {
        switch (token.kind()) {
            case WILDCARD:
                return space.wildcardSet();
            case ANYVM:
                return space.anyvmSet();
            default:
                break;
        }
        Arrays.fill(scratch, 0L);
        List<QubeInfo> qubes = system.qubes();
        switch (token.kind()) {
            case LITERAL -> {
                QubeInfo q = system.get(token.text());
                if (q != null) {
                    CandidateSpace.set(scratch, space.nameBit(q));
                }
            }
            case ADMINVM -> CandidateSpace.set(scratch, space.adminvmBit());
            case DEFAULT -> {
                // @default stands for no qube
            }
            case TYPE -> {
                for (int i = 0; i < qubes.size(); i++) {
                    if (token.value().equals(qubes.get(i).type())) {
                        CandidateSpace.set(scratch, space.nameBitAt(i));
                    }
                }
            }
            case TAG -> {
                for (int i = 0; i < qubes.size(); i++) {
                    if (qubes.get(i).tags().contains(token.value())) {
                        CandidateSpace.set(scratch, space.nameBitAt(i));
                    }
                }
            }
            case DISPVM -> CandidateSpace.set(scratch, space.dispvmKeywordBit());
            case DISPVM_TEMPLATE -> {
                QubeInfo q = system.get(token.value());
                if (q == null) {
                    throw new ReferenceCrash("KeyError", "ask expansion of " + token.text()
                            + ": '" + token.value() + "' is not a known qube");
                }
                if (q.templateForDispvms()) {
                    CandidateSpace.set(scratch, space.dispvmBit(q));
                }
            }
            case DISPVM_TAG -> {
                for (int i = 0; i < qubes.size(); i++) {
                    QubeInfo q = qubes.get(i);
                    if (q.templateForDispvms() && q.tags().contains(token.value())) {
                        CandidateSpace.set(scratch, space.dispvmBitAt(i));
                    }
                }
            }
            default -> throw new AssertionError(token.kind());
        }
        return scratch;
    }
}
