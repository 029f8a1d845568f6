package dev.qrexec.policy.cli.lint;

import java.util.Objects;

/**
 * One finding of the linter, printed as {@code path:line: severity: message} (the form compilers
 * use, so editors can jump to it).
 *
 * @param file     the file as shown to the user, or null when the finding has no file
 * @param line     1-based line, or 0 when it has none
 * @param severity error (the policy does not load) or warning (it loads, but something is off)
 * @param message  what is wrong, in words
 */
public record Diagnostic(String file, int line, Severity severity, String message) {

    public enum Severity {
        ERROR("error"), WARNING("warning");

        private final String label;

        Severity(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public Diagnostic {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
    }

    public String format() {
        if (file == null) {
            return severity.label() + ": " + message;
        }
        return file + ":" + (line == 0 ? "None" : Integer.toString(line)) + ": " + severity.label() + ": " + message;
    }
}
