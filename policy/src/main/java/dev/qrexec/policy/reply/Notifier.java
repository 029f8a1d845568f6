package dev.qrexec.policy.reply;

/**
 * Delivers a {@code policy.Notify} (spec 5.8) to {@link Notification#guivm()}. Must not block;
 * failures are the implementation's to log, and never change the decision.
 */
@FunctionalInterface
public interface Notifier {

    void notify(Notification notification);

    /** Drops every notification (the standalone policy daemon has no GUI to tell). */
    Notifier NONE = notification -> {
    };
}
