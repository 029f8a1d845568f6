package dev.qrexec.policy.load;

import java.util.ArrayList;
import java.util.List;

/**
 * The separators of policy words: exactly the code points for which Python's {@code str.isspace()}
 * is true (the reference splits with {@code str.split()}). Java's {@code \s} and
 * {@link Character#isWhitespace} differ (NBSP, U+2007, U+202F, U+0085, ...). The ANTLR lexer
 * (grammar {@code QrexecPolicy}) uses the same set.
 */
public final class PythonWhitespace {

    private PythonWhitespace() {
    }

    public static boolean isSpace(int cp) {
        if (cp <= 0x20) {
            return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
        }
        if (cp < 0x85) {
            return false;
        }
        return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }

    /** Python's {@code s.split()} with no argument. */
    public static List<String> split(String s) {
        List<String> words = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isSpace(s.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < n && !isSpace(s.charAt(i))) {
                i++;
            }
            if (i > start) {
                words.add(s.substring(start, i));
            }
        }
        return words;
    }
}
