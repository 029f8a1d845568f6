package dev.qrexec.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Token;
import org.junit.jupiter.api.Test;

/** The grammar alone: words, separators, line breaks; keywords are not special. */
class QrexecPolicyGrammarTest {

    private static List<List<String>> lines(String text) {
        QrexecPolicyParser parser = new QrexecPolicyParser(new CommonTokenStream(
                new QrexecPolicyLexer(CharStreams.fromString(text))));
        List<List<String>> out = new ArrayList<>();
        for (QrexecPolicyParser.LineContext line : parser.policyFile().line()) {
            out.add(line.WORD().stream().map(w -> w.getText()).toList());
        }
        assertEquals(0, parser.getNumberOfSyntaxErrors());
        return out;
    }

    @Test
    void wordsAreMaximalRunsOfNonSeparators() {
        assertEquals(List.of(List.of("*", "*", "allow", "@anyvm", "allow", "target=x=y", "#x", "a\\")),
                lines("* *\tallow  @anyvm allow target=x=y #x a\\"));
    }

    @Test
    void everyLineBreakStartsALineAndEmptyLinesCount() {
        assertEquals(List.of(List.of("a"), List.of("b"), List.of("c"), List.of(), List.of("d")),
                lines("a\r\nb\rc\n\nd"));
        assertEquals(List.of(List.of("a"), List.of()), lines("a\n"));
    }

    @Test
    void unicodeSpacesSeparateButDoNotBreakLines() {
        assertEquals(List.of(List.of("a", "b", "c", "d", "e", "f")),
                lines("a\u00a0b\u2003c\u001fd\u0085e\u2028f"));
        assertEquals(List.of(List.of("a\u200bb")), lines("a\u200bb"));
    }

    @Test
    void noInputIsRejected() {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0xd800; c++) {
            all.append(c);
        }
        QrexecPolicyLexer lexer = new QrexecPolicyLexer(CharStreams.fromString(all.toString()));
        List<String> errors = new ArrayList<>();
        lexer.removeErrorListeners();
        lexer.addErrorListener(new org.antlr.v4.runtime.BaseErrorListener() {
            @Override
            public void syntaxError(org.antlr.v4.runtime.Recognizer<?, ?> r, Object symbol, int line, int pos, String msg,
                                    org.antlr.v4.runtime.RecognitionException e) {
                errors.add(line + ":" + pos + " " + msg);
            }
        });
        int words = 0;
        for (Token t = lexer.nextToken(); t.getType() != Token.EOF; t = lexer.nextToken()) {
            assertEquals(true, t.getType() == QrexecPolicyLexer.WORD || t.getType() == QrexecPolicyLexer.NEWLINE,
                    "unexpected token " + t);
            words++;
        }
        assertEquals(true, words > 0);
        assertEquals(List.of(), errors);
    }
}
