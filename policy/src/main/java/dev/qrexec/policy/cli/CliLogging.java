package dev.qrexec.policy.cli;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Log levels of the command-line tools. The engine logs every decision at INFO (as the reference
 * daemon does), which is right for {@code daemon} but buries the output of {@code lint}, {@code eval}
 * and {@code conformance}; those raise the threshold. {@code QREXEC_LOG_LEVEL} (a
 * {@link java.util.logging.Level} name) overrides.
 */
final class CliLogging {

    private CliLogging() {
    }

    /** Sets the threshold of the process's root logger and its handlers. */
    static void threshold(Level level) {
        String override = System.getenv("QREXEC_LOG_LEVEL");
        Level chosen = level;
        if (override != null && !override.isBlank()) {
            try {
                chosen = Level.parse(override.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                System.err.println("qrexec-policy: ignoring QREXEC_LOG_LEVEL=" + override + ": not a level");
            }
        }
        Logger root = Logger.getLogger("");
        root.setLevel(chosen);
        for (var handler : root.getHandlers()) {
            handler.setLevel(chosen);
        }
    }
}
