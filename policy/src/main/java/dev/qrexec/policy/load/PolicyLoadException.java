package dev.qrexec.policy.load;

/**
 * The policy cannot be loaded; every request must then be denied. {@link #getMessage()} is the
 * reference's text: {@code file:line: text} for syntax errors (file relative to its policy
 * directory), the bare text for errors without a place (e.g. {@code invalid filename: ...}).
 */
public final class PolicyLoadException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String text;

    public PolicyLoadException(String file, int line, String text) {
        this(file, line, text, null);
    }

    public PolicyLoadException(String file, int line, String text, Throwable cause) {
        super(format(file, line, text), cause);
        this.file = file;
        this.line = line;
        this.text = text;
    }

    private static String format(String file, int line, String text) {
        if (file == null) {
            return text;
        }
        return file + ":" + (line == 0 ? "None" : Integer.toString(line)) + ": " + text;
    }

    /** The file the error is in (as shown in messages), or null. */
    public String file() {
        return file;
    }

    /** The 1-based line, or 0 when the error has no line. */
    public int line() {
        return line;
    }

    /** The error without its location. */
    public String text() {
        return text;
    }
}
