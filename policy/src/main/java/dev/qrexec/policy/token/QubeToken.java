package dev.qrexec.policy.token;

import java.util.Objects;

/**
 * A parsed qube token: its text, what it denotes, and its value (the part after the prefix).
 * Parsed once at load time so that evaluation never looks at the text's syntax again.
 *
 * <p>{@link #text()} is exactly what was written (the reference compares tokens as strings in
 * several places, e.g. {@code @dispvm:X} against {@code @dispvm:D}).
 */
public final class QubeToken {

    /** The three spellings of dom0 (spec 3.2). */
    public static final String DOM0 = "dom0";
    public static final String ADMINVM = "@adminvm";
    public static final String DOM0_UUID = "uuid:00000000-0000-0000-0000-000000000000";
    public static final String DISPVM_PREFIX = "@dispvm:";

    private final String text;
    private final TokenKind kind;
    private final String value;
    private final boolean dom0;
    private final boolean uuidForm;

    private QubeToken(String text, TokenKind kind, String value) {
        this.text = text;
        this.kind = kind;
        this.value = value;
        this.dom0 = isDom0(text);
        this.uuidForm = text.startsWith("uuid:");
    }

    /**
     * Parses {@code word} as a token of {@code context}, with the reference's checks and messages
     * ({@code invalid empty source token}, {@code invalid empty @tag: token: '@tag:'},
     * {@code invalid redirect token: '@anyvm'}, ...).
     */
    public static QubeToken parse(String word, TokenContext context) throws TokenSyntaxException {
        Objects.requireNonNull(word, "word");
        if (word.isEmpty()) {
            throw new TokenSyntaxException("invalid empty " + context.label() + " token");
        }
        if (!word.startsWith("@") && !word.equals("*")) {
            return new QubeToken(word, TokenKind.LITERAL, word);
        }
        TokenKind exact = switch (word) {
            case "*" -> TokenKind.WILDCARD;
            case "@adminvm" -> TokenKind.ADMINVM;
            case "@anyvm" -> TokenKind.ANYVM;
            case "@default" -> TokenKind.DEFAULT;
            case "@dispvm" -> TokenKind.DISPVM;
            default -> null;
        };
        if (exact != null && context.accepts(exact)) {
            return new QubeToken(word, exact, word);
        }
        // Prefixes in the reference's order; a value starting with '@' falls through to a longer prefix.
        QubeToken prefixed = prefixed(word, context, "@type:", TokenKind.TYPE);
        if (prefixed == null) {
            prefixed = prefixed(word, context, "@tag:", TokenKind.TAG);
        }
        if (prefixed == null) {
            prefixed = prefixed(word, context, DISPVM_PREFIX, TokenKind.DISPVM_TEMPLATE);
        }
        if (prefixed == null) {
            prefixed = prefixed(word, context, "@dispvm:@tag:", TokenKind.DISPVM_TAG);
        }
        if (prefixed != null) {
            return prefixed;
        }
        throw new TokenSyntaxException("invalid " + context.label() + " token: " + PyRepr.str(word));
    }

    private static QubeToken prefixed(String word, TokenContext context, String prefix, TokenKind kind)
            throws TokenSyntaxException {
        if (!context.accepts(kind) || !word.startsWith(prefix)) {
            return null;
        }
        String value = word.substring(prefix.length());
        if (value.isEmpty()) {
            throw new TokenSyntaxException("invalid empty " + prefix + " token: " + PyRepr.str(word));
        }
        if (value.startsWith("@")) {
            return null;
        }
        return new QubeToken(word, kind, value);
    }

    /** True for {@code dom0}, {@code @adminvm} and {@code uuid:00000000-0000-0000-0000-000000000000}. */
    public static boolean isDom0(String name) {
        return name.equals(DOM0) || name.equals(ADMINVM) || name.equals(DOM0_UUID);
    }

    public String text() {
        return text;
    }

    public TokenKind kind() {
        return kind;
    }

    /** The part after the prefix ({@code T} of {@code @tag:T}, {@code X} of {@code @dispvm:X}); the text otherwise. */
    public String value() {
        return value;
    }

    /** True when the text is one of the dom0 spellings. */
    public boolean isDom0() {
        return dom0;
    }

    /** True when the text is a {@code uuid:...} form (which matches a qube by its uuid). */
    public boolean isUuidForm() {
        return uuidForm;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QubeToken other && other.text.equals(text) && other.kind == kind;
    }

    @Override
    public int hashCode() {
        return text.hashCode() * 31 + kind.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
