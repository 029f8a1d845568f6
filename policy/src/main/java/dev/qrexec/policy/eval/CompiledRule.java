package dev.qrexec.policy.eval;

import dev.qrexec.policy.Rule;
import dev.qrexec.policy.token.QubeToken;

/**
 * A rule flattened for the first-match loop: the rule's index and, per column, a match mode with
 * the text and its hash inline. The common tokens ({@code *}, {@code @anyvm}, {@code @adminvm},
 * dom0, plain names, {@code @default}, {@code @dispvm}) are decided from these fields alone; the
 * others go through {@link TokenMatcher}. Built with the index, in list order, so a service's
 * candidates sit together in memory. Immutable.
 */
final class CompiledRule {

    /** Matches everything. */
    static final int ANY = 0;
    /** Matches what is not dom0 ({@code @anyvm}). */
    static final int NOT_DOM0 = 1;
    /** Matches dom0 in any spelling ({@code @adminvm}, {@code dom0}, the zero uuid). */
    static final int DOM0 = 2;
    /** Matches the equal string, when the request value is not a {@code uuid:} form. */
    static final int EXACT = 3;
    /** Needs {@link TokenMatcher}. */
    static final int OTHER = 4;

    final Rule rule;
    final int index;
    final int sourceMode;
    final String sourceText;
    final int sourceHash;
    final int targetMode;
    final String targetText;
    final int targetHash;

    CompiledRule(Rule rule) {
        this.rule = rule;
        this.index = rule.index();
        this.sourceMode = mode(rule.source());
        this.sourceText = rule.source().text();
        this.sourceHash = sourceText.hashCode();
        this.targetMode = mode(rule.target());
        this.targetText = rule.target().text();
        this.targetHash = targetText.hashCode();
    }

    private static int mode(QubeToken token) {
        return switch (token.kind()) {
            case WILDCARD -> ANY;
            case ANYVM -> NOT_DOM0;
            case ADMINVM -> DOM0;
            case LITERAL -> token.isDom0() ? DOM0 : token.isUuidForm() ? OTHER : EXACT;
            // both compare as plain strings unless the request value is a uuid form (spec 3.2)
            case DEFAULT, DISPVM -> EXACT;
            default -> OTHER;
        };
    }

    boolean matchesSource(RequestContext ctx) throws ReferenceCrash {
        return switch (sourceMode) {
            case ANY -> true;
            case NOT_DOM0 -> !ctx.sourceIsDom0();
            case DOM0 -> ctx.sourceIsDom0();
            case EXACT -> ctx.sourceIsUuid() ? TokenMatcher.matchesSource(rule.source(), ctx)
                    : sourceHash == ctx.sourceHash() && sourceText.equals(ctx.source());
            default -> TokenMatcher.matchesSource(rule.source(), ctx);
        };
    }

    boolean matchesTarget(RequestContext ctx) throws ReferenceCrash {
        return switch (targetMode) {
            case ANY -> true;
            case NOT_DOM0 -> !ctx.targetIsDom0();
            case DOM0 -> ctx.targetIsDom0();
            case EXACT -> ctx.targetIsUuid() ? TokenMatcher.matchesTarget(rule.target(), ctx)
                    : targetHash == ctx.targetHash() && targetText.equals(ctx.target());
            default -> TokenMatcher.matchesTarget(rule.target(), ctx);
        };
    }
}
