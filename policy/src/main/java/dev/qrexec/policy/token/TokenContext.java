package dev.qrexec.policy.token;

import java.util.EnumSet;
import java.util.Set;

/**
 * The four places a qube token can appear (spec 3.1); each accepts a different set of keywords.
 * The lower-case {@link #label()} is the word the reference uses in its error messages.
 */
public enum TokenContext {
    SOURCE("source", EnumSet.of(TokenKind.LITERAL, TokenKind.WILDCARD, TokenKind.ANYVM, TokenKind.ADMINVM,
            TokenKind.TYPE, TokenKind.TAG, TokenKind.DISPVM_TEMPLATE, TokenKind.DISPVM_TAG)),
    TARGET("target", EnumSet.allOf(TokenKind.class)),
    REDIRECT("redirect", EnumSet.of(TokenKind.LITERAL, TokenKind.ADMINVM, TokenKind.DISPVM,
            TokenKind.DISPVM_TEMPLATE)),
    INTENDED_TARGET("intendedtarget", EnumSet.of(TokenKind.LITERAL, TokenKind.ADMINVM, TokenKind.DEFAULT,
            TokenKind.DISPVM, TokenKind.DISPVM_TEMPLATE));

    private final String label;
    private final Set<TokenKind> accepted;

    TokenContext(String label, Set<TokenKind> accepted) {
        this.label = label;
        this.accepted = accepted;
    }

    public String label() {
        return label;
    }

    public boolean accepts(TokenKind kind) {
        return accepted.contains(kind);
    }
}
