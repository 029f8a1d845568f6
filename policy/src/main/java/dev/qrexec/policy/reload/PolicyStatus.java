package dev.qrexec.policy.reload;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The state of a {@link PolicyService}, for status output and health checks.
 *
 * @param generation    the policy generation in force: 0 when no policy ever loaded (everything is
 *                      denied), then 1, 2, ... for each successful load
 * @param loadedAt      when the policy in force was installed
 * @param ruleCount     rules of the policy in force (0 while everything is denied)
 * @param lastAttemptAt when the last load finished, successful or not
 * @param lastError     {@code file:line: text} of the last load's failure, or null if it succeeded
 * @param failures      failed loads since the policy in force was installed
 * @param directories   the policy directories, in priority order
 */
public record PolicyStatus(long generation, Instant loadedAt, int ruleCount, Instant lastAttemptAt,
                           String lastError, int failures, List<Path> directories) {

    public PolicyStatus {
        directories = List.copyOf(directories);
    }

    /** The last load succeeded. */
    public boolean healthy() {
        return lastError == null;
    }

    /** Whether everything is denied because no policy ever loaded. */
    public boolean denyingEverything() {
        return generation == 0;
    }

    /** One line for logs and the CLI. */
    public String summary() {
        String state = generation == 0
                ? "no policy loaded, denying everything"
                : "generation " + generation + ", " + ruleCount + " rules, loaded " + loadedAt;
        return lastError == null ? state : state + "; last reload failed: " + lastError;
    }
}
