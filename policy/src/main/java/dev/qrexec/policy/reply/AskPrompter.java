package dev.qrexec.policy.reply;

import java.util.concurrent.CompletableFuture;

/**
 * Shows a pending {@code ask} to the user: calls {@code policy.Ask} in the source's GUI qube
 * ({@link AskPrompt#guivm()}) with {@link AskPrompt#params()} (spec 5.8).
 *
 * <p>Must not block: return at once and complete the future from whatever thread receives the
 * answer. The future completes with the raw answer ({@code deny}, {@code allow:TARGET}, anything
 * else is invalid) or fails when the question could not be asked. The caller may complete it
 * exceptionally itself (its timeout): an implementation should then withdraw the question.
 */
@FunctionalInterface
public interface AskPrompter {

    CompletableFuture<String> ask(AskPrompt prompt);

    /** A prompter for a system without GUI: every question fails at once. */
    AskPrompter NONE = prompt -> CompletableFuture.failedFuture(
            new IllegalStateException("no prompt is available to ask " + prompt.guivm()));
}
