package dev.qrexec.policy.token;

import java.util.List;

/**
 * Python's {@code repr()} of strings, lists and tuples of strings: the reference's error messages
 * embed such reprs ({@code invalid action parameter syntax: 'x'},
 * {@code invalid parameters for action Allow: ['a=b']}), and we reproduce them byte for byte.
 */
public final class PyRepr {

    private PyRepr() {
    }

    /** {@code repr(s)}: single quotes unless the text has a single quote and no double quote. */
    public static String str(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder out = new StringBuilder(s.length() + 2).append(quote);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == quote || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
            } else if (cp == '\t') {
                out.append("\\t");
            } else if (cp == '\n') {
                out.append("\\n");
            } else if (cp == '\r') {
                out.append("\\r");
            } else if (cp < 0x20 || cp == 0x7f) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp < 0x7f || isPrintable(cp)) {
                out.appendCodePoint(cp);
            } else if (cp <= 0xff) {
                out.append(String.format("\\x%02x", cp));
            } else if (cp <= 0xffff) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.append(String.format("\\U%08x", cp));
            }
        }
        return out.append(quote).toString();
    }

    /** {@code repr(list_of_str)}: {@code ['a', 'b']}. */
    public static String list(List<String> items) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(", ");
            }
            out.append(str(items.get(i)));
        }
        return out.append(']').toString();
    }

    /** {@code repr(tuple_of_str)}: {@code ('a',)} or {@code ('a', 'b')}. */
    public static String tuple(List<String> items) {
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                out.append(", ");
            }
            out.append(str(items.get(i)));
        }
        if (items.size() == 1) {
            out.append(',');
        }
        return out.append(')').toString();
    }

    /** Python's str.isprintable() for one non-ASCII code point (Unicode categories, as close as the JDK's tables). */
    private static boolean isPrintable(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }
}
