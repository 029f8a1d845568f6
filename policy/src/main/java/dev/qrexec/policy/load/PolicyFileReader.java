package dev.qrexec.policy.load;

import dev.qrexec.grammar.QrexecPolicyLexer;
import dev.qrexec.grammar.QrexecPolicyParser;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;

/**
 * Splits the text of a policy file into numbered lines of words, with the ANTLR grammar
 * {@code QrexecPolicy}. Blank lines are kept out of the result but still counted.
 */
final class PolicyFileReader {

    /** One non-blank physical line: its 1-based number and its words (never empty). */
    record Line(int number, List<String> words) {
        String first() {
            return words.get(0);
        }

        String joined() {
            return String.join(" ", words);
        }
    }

    private PolicyFileReader() {
    }

    /** Decodes strict UTF-8 (like the reference, which fails on undecodable bytes). */
    static String decode(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }

    /**
     * The lines of a file, from the grammar's lexer. The token stream is grouped by NEWLINE here
     * rather than through the parser's tree: same result (a test checks it against
     * {@link #linesFromParseTree}), a third of the cost on large policies.
     */
    static List<Line> lines(String text) {
        QrexecPolicyLexer lexer = new QrexecPolicyLexer(CharStreams.fromString(text));
        lexer.removeErrorListeners();
        lexer.addErrorListener(Failing.INSTANCE);
        List<Line> lines = new ArrayList<>();
        List<String> words = new ArrayList<>();
        int number = 1;
        for (Token t = lexer.nextToken(); ; t = lexer.nextToken()) {
            int type = t.getType();
            if (type == QrexecPolicyLexer.WORD) {
                words.add(t.getText());
                continue;
            }
            if (!words.isEmpty()) {
                lines.add(new Line(number, List.copyOf(words)));
                words.clear();
            }
            if (type == Token.EOF) {
                return lines;
            }
            number++; // NEWLINE: CR LF, CR or LF (ANTLR's own line counter knows only LF)
        }
    }

    /** The same lines through the grammar's parser rule {@code policyFile}. */
    static List<Line> linesFromParseTree(String text) {
        QrexecPolicyLexer lexer = new QrexecPolicyLexer(CharStreams.fromString(text));
        lexer.removeErrorListeners();
        lexer.addErrorListener(Failing.INSTANCE);
        QrexecPolicyParser parser = new QrexecPolicyParser(new CommonTokenStream(lexer));
        parser.removeErrorListeners();
        parser.addErrorListener(Failing.INSTANCE);
        parser.getInterpreter().setPredictionMode(PredictionMode.SLL);
        List<QrexecPolicyParser.LineContext> contexts = parser.policyFile().line();
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < contexts.size(); i++) {
            List<String> words = contexts.get(i).WORD().stream().map(n -> n.getText()).toList();
            if (!words.isEmpty()) {
                lines.add(new Line(i + 1, words));
            }
        }
        return lines;
    }

    /**
     * Every input is a valid token sequence for this grammar (each code point is a line break, a
     * separator or part of a word), so an error here is a bug in the grammar, not bad input.
     */
    private static final class Failing extends BaseErrorListener {
        static final Failing INSTANCE = new Failing();

        @Override
        public void syntaxError(Recognizer<?, ?> recognizer, Object offendingSymbol, int line, int charPositionInLine,
                                String msg, RecognitionException e) {
            String near = offendingSymbol instanceof Token t ? " near '" + t.getText() + "'" : "";
            throw new IllegalStateException("policy grammar rejected line " + line + near + ": " + msg);
        }
    }
}
