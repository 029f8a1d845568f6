package dev.qrexec.policy.token;

/** What a qube token denotes (spec 3.1). Decided once, when the token is parsed. */
public enum TokenKind {
    /** A qube name or {@code uuid:...}; {@code dom0} included. */
    LITERAL,
    /** {@code *}: everything, dom0 included. */
    WILDCARD,
    /** {@code @anyvm}: everything but dom0. */
    ANYVM,
    /** {@code @adminvm}: dom0. */
    ADMINVM,
    /** {@code @default}: the caller named no (existing) target. */
    DEFAULT,
    /** {@code @type:T}. */
    TYPE,
    /** {@code @tag:T}. */
    TAG,
    /** {@code @dispvm}: a new disposable of the source's default template. */
    DISPVM,
    /** {@code @dispvm:NAME} / {@code @dispvm:uuid:U}: a disposable of that template. */
    DISPVM_TEMPLATE,
    /** {@code @dispvm:@tag:T}: a disposable of any template carrying tag T. */
    DISPVM_TAG
}
