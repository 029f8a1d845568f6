package dev.qrexec.policy;

import java.util.Objects;

/**
 * Where a rule or an error comes from.
 *
 * @param file the file as shown to people: relative to the policy directory that holds it
 *             ({@code 30-user.policy}, {@code include/extra}), absolute when outside every policy directory
 * @param line 1-based line number, or 0 for a synthetic rule (the implicit denies of {@code !compat-4.0}),
 *             which the reference prints as {@code None}
 */
public record SourceLocation(String file, int line) {

    public SourceLocation {
        Objects.requireNonNull(file, "file");
        if (line < 0) {
            throw new IllegalArgumentException("line must be >= 0, got " + line);
        }
    }

    public boolean synthetic() {
        return line == 0;
    }

    /** {@code file:line}, as in the reference's messages ({@code file:None} for synthetic rules). */
    @Override
    public String toString() {
        return file + ":" + (line == 0 ? "None" : Integer.toString(line));
    }
}
