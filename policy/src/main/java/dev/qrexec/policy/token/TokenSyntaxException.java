package dev.qrexec.policy.token;

/** A word is not a valid qube token in its context. The message is the reference's text, without location. */
public final class TokenSyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    public TokenSyntaxException(String message) {
        super(message, null, false, false);
    }
}
