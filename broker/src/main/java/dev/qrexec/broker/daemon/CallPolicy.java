package dev.qrexec.broker.daemon;

/**
 * Decides a call. Implementations may block (policy files, system info); the daemon calls them on
 * its bounded policy executor, never on an event loop. Any exception counts as a deny.
 */
@FunctionalInterface
public interface CallPolicy {

    PolicyVerdict evaluate(CallRequest request) throws Exception;
}
