package dev.qrexec.policy.load;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Word separation must be Python's str.isspace()/str.split(), in the grammar and in Java alike (spec 1.2). */
class WhitespaceTest {

    /** {@code [hex(i) for i in range(0x110000) if chr(i).isspace()]} under CPython 3. */
    private static final Set<Integer> PYTHON_ISSPACE = Set.of(0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
            0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
            0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000);

    @Test
    void javaPredicateIsPythonIsspaceForEveryCodePoint() {
        Set<Integer> java = new TreeSet<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            if (PythonWhitespace.isSpace(cp)) {
                java.add(cp);
            }
        }
        assertEquals(new TreeSet<>(PYTHON_ISSPACE), java);
    }

    @Test
    void grammarSeparatesExactlyWherePythonDoes() {
        // one line "a<cp>b" per BMP code point (except the line breaks CR and LF): the lexer must
        // split the line into two words exactly where Python would
        StringBuilder text = new StringBuilder();
        List<Integer> probes = new java.util.ArrayList<>();
        for (int cp = 1; cp <= 0xffff; cp++) {
            if ((cp >= 0xd800 && cp <= 0xdfff) || cp == '\n' || cp == '\r') {
                continue;
            }
            probes.add(cp);
            text.append('a').append((char) cp).append("b\n");
        }
        List<PolicyFileReader.Line> lines = PolicyFileReader.lines(text.toString());
        assertEquals(probes.size(), lines.size());
        for (int i = 0; i < probes.size(); i++) {
            int cp = probes.get(i);
            assertEquals(i + 1, lines.get(i).number());
            assertEquals(PYTHON_ISSPACE.contains(cp) ? 2 : 1, lines.get(i).words().size(),
                    () -> String.format("U+%04X", cp));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u00a0", "\u2003", "\u001c", "\u001d", "\u001e", "\u001f", "\u0085", "\u000b", "\u000c",
            "\u2028", "\u2029", "\u202f", "\u3000", "\t"})
    void unicodeSeparatorsSplitRuleWordsAndStayOnTheLine(String sep) {
        String text = "*" + sep + "*" + sep + "work" + sep + "vault" + sep + "allow\n* * a b deny";
        List<PolicyFileReader.Line> lines = PolicyFileReader.lines(text);
        assertEquals(2, lines.size());
        assertEquals(List.of("*", "*", "work", "vault", "allow"), lines.get(0).words());
        assertEquals(1, lines.get(0).number());
        assertEquals(2, lines.get(1).number());
        assertEquals(lines.get(0).words(), PythonWhitespace.split(text.substring(0, text.indexOf('\n'))));
    }

    @Test
    void lineBreaksAreUniversalNewlines() {
        List<PolicyFileReader.Line> lines = PolicyFileReader.lines("a\r\nb\rc\n\n d \u200be");
        assertEquals(List.of(1, 2, 3, 5), lines.stream().map(PolicyFileReader.Line::number).toList());
        assertEquals(List.of("d", "\u200be"), lines.get(3).words()); // U+200B is not whitespace in Python
    }

    @Test
    void zeroWidthAndOtherNonSpacesAreWordCharacters() {
        assertEquals(List.of("a\u200bb", "c\u180ed"), PythonWhitespace.split(" a\u200bb\u3000c\u180ed "));
    }

    @Test
    void lexerGroupingEqualsTheParseTree() {
        java.util.Random random = new java.util.Random(3);
        String[] pieces = {"a", "*", "@anyvm", " ", "\t", "\u00a0", "\n", "\r", "\r\n", "\u2028", "#x", "!include", "\u000b"};
        for (int round = 0; round < 500; round++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            assertEquals(PolicyFileReader.linesFromParseTree(text.toString()), PolicyFileReader.lines(text.toString()),
                    text.toString());
        }
    }
}
