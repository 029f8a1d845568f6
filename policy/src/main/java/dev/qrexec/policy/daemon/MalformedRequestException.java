package dev.qrexec.policy.daemon;

/**
 * A {@code policy.sock} request that must be refused by closing the connection without a reply.
 *
 * <p>Closing silently is the protocol, not sloppiness: qrexec-daemon treats an empty reply as
 * malformed and falls back to {@code qrexec-policy-exec} (spec 7.1), which is how old daemons that
 * still send {@code domain_id=} keep working.
 */
public final class MalformedRequestException extends Exception {

    public MalformedRequestException(String reason) {
        super(reason, null, false, false);
    }
}
