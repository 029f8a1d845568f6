package dev.qrexec.policy.cli.lint;

import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenKind;

/**
 * Decides, conservatively, whether one rule token matches every value another matches (spec 3.2).
 * "True" is a proof; "false" only means no proof was found, so the linter never warns wrongly.
 */
final class TokenCoverage {

    private TokenCoverage() {
    }

    /** Whether every request value matched by {@code narrow} is also matched by {@code wide}. */
    static boolean covers(QubeToken wide, QubeToken narrow) {
        if (wide.kind() == TokenKind.WILDCARD || wide.equals(narrow)) {
            return true;
        }
        if (wide.isDom0() && narrow.isDom0()) {
            // dom0, @adminvm and uuid:00..0 all match exactly the dom0 spellings.
            return true;
        }
        if (wide.kind() == TokenKind.ANYVM) {
            return neverMatchesDom0(narrow);
        }
        return false;
    }

    /** Tokens whose matches are never a dom0 spelling, so {@code @anyvm} matches all of them. */
    private static boolean neverMatchesDom0(QubeToken token) {
        return switch (token.kind()) {
            case LITERAL -> !token.isDom0();
            case DEFAULT, DISPVM, DISPVM_TEMPLATE, DISPVM_TAG, ANYVM -> true;
            // @type:/@tag: may match dom0 (e.g. @type:AdminVM); * and @adminvm do.
            default -> false;
        };
    }

    /** A source token that matches no source at all (spec 3.2: disposable forms need a dispvm value). */
    static boolean neverMatchesAsSource(QubeToken source) {
        return source.kind() == TokenKind.DISPVM_TEMPLATE || source.kind() == TokenKind.DISPVM_TAG;
    }

    /** Whether some caller could be matched by both source tokens (false only when provably not). */
    static boolean sourcesMayOverlap(QubeToken a, QubeToken b) {
        if (neverMatchesAsSource(a) || neverMatchesAsSource(b)) {
            return false;
        }
        if (a.isDom0() || b.isDom0()) {
            QubeToken other = a.isDom0() ? b : a;
            // @anyvm never matches dom0; a literal other than a dom0 spelling or a uuid never does either.
            return other.isDom0() || other.kind() != TokenKind.ANYVM
                    && !(other.kind() == TokenKind.LITERAL && !other.text().startsWith("uuid:"));
        }
        if (a.kind() == TokenKind.LITERAL && b.kind() == TokenKind.LITERAL) {
            // Different names may still be the same qube when one of them is a uuid: form.
            return a.text().equals(b.text()) || a.text().startsWith("uuid:") || b.text().startsWith("uuid:");
        }
        return true;
    }
}
