package dev.qrexec.policy.eval;

import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenKind;

/**
 * A request as rules see it, after building and verification (spec 5.1): the effective source
 * and the normalised intended target with its kind. Immutable; lives for one evaluation.
 *
 * @param system      the system info of this request
 * @param service     the service
 * @param argument    the argument
 * @param source      the effective source (the RemoteVM when a requested source was accepted)
 * @param sourceQube  the source's entry, or null when the source is not a known qube
 * @param target      the normalised intended target ({@code @default} for unknown names)
 * @param targetKind  LITERAL, ADMINVM, DEFAULT, DISPVM or DISPVM_TEMPLATE
 * @param targetValue for DISPVM_TEMPLATE the template part; else the target itself
 * @param targetQube  the target's entry when the target is a qube name or uuid, else null
 * @param sourceIsDom0 whether the source is a dom0 spelling (precomputed: tested by many rules)
 * @param targetIsDom0 whether the target is a dom0 spelling
 * @param sourceIsUuid whether the source is a {@code uuid:} form
 * @param targetIsUuid whether the target is a {@code uuid:} form
 * @param sourceHash   the source string's hash (first, cheap test of a name comparison)
 * @param targetHash   the target string's hash
 */
public record RequestContext(SystemInfo system, String service, String argument, String source,
                             QubeInfo sourceQube, String target, TokenKind targetKind, String targetValue,
                             QubeInfo targetQube, boolean sourceIsDom0, boolean targetIsDom0, boolean sourceIsUuid,
                             boolean targetIsUuid, int sourceHash, int targetHash) {

    /** The context of a request, with the flags derived from its strings. */
    public static RequestContext of(SystemInfo system, String service, String argument, String source,
                                    QubeInfo sourceQube, String target, TokenKind targetKind, String targetValue,
                                    QubeInfo targetQube) {
        return new RequestContext(system, service, argument, source, sourceQube, target, targetKind, targetValue,
                targetQube, QubeToken.isDom0(source), QubeToken.isDom0(target), source.startsWith("uuid:"),
                target.startsWith("uuid:"), source.hashCode(), target.hashCode());
    }

    /** The source's {@code default_dispvm}, or null (unknown source, or no default set). */
    public String sourceDefaultDispvm() {
        return sourceQube == null ? null : sourceQube.defaultDispvm();
    }
}
