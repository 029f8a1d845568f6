package dev.qrexec.policy.eval;

import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenKind;

/** Whether a rule's source or target token matches the request (spec 3.2). Stateless. */
public final class TokenMatcher {

    private TokenMatcher() {
    }

    /** Source column: the source is a plain name, so the {@code @dispvm:} forms never match it. */
    public static boolean matchesSource(QubeToken token, RequestContext request) throws ReferenceCrash {
        return matches(token, request.source(), request.sourceQube(), request.sourceIsDom0(), request.sourceIsUuid(),
                null, null, request, false);
    }

    /** Target column, against the normalised intended target. */
    public static boolean matchesTarget(QubeToken token, RequestContext request) throws ReferenceCrash {
        return matches(token, request.target(), request.targetQube(), request.targetIsDom0(), request.targetIsUuid(),
                request.targetKind(), request.targetValue(), request, true);
    }

    private static boolean matches(QubeToken token, String v, QubeInfo vQube, boolean vDom0, boolean vUuid, TokenKind vKind, String vValue, RequestContext request,
                                   boolean targetColumn) throws ReferenceCrash {
        SystemInfo system = request.system();
        switch (token.kind()) {
            case LITERAL:
                if (token.isDom0()) {
                    return vDom0;
                }
                if (!token.isUuidForm() && !vUuid) {
                    return token.text().equals(v);
                }
                return sameQube(system, token.text(), v);
            case WILDCARD:
                return true;
            case ANYVM:
                return !vDom0;
            case ADMINVM:
                return vDom0;
            case DEFAULT:
                return sameQube(system, token.text(), v);
            case TYPE:
                return vQube != null && token.value().equals(vQube.type());
            case TAG:
                return vQube != null && vQube.tags().contains(token.value());
            case DISPVM:
                return token.text().equals(v);
            case DISPVM_TEMPLATE:
                if (vKind == TokenKind.DISPVM && targetColumn) {
                    String template = request.sourceDefaultDispvm();
                    if (template == null) {
                        throw new ReferenceCrash("AttributeError", "rule target " + token.text()
                                + " compared with @dispvm of source '" + request.source()
                                + "', which has no default_dispvm");
                    }
                    // compared as plain strings: a @dispvm:uuid:... rule never matches a bare @dispvm
                    return token.value().equals(template);
                }
                return vKind == TokenKind.DISPVM_TEMPLATE && sameQube(system, token.value(), vValue);
            case DISPVM_TAG: {
                String template;
                if (vKind == TokenKind.DISPVM && targetColumn) {
                    template = request.sourceDefaultDispvm();
                    if (template == null) {
                        return false;
                    }
                } else if (vKind == TokenKind.DISPVM_TEMPLATE) {
                    template = vValue;
                } else {
                    return false;
                }
                QubeInfo q = system.get(template);
                if (q == null) {
                    throw new ReferenceCrash("KeyError", "default_dispvm '" + template + "' of source '"
                            + request.source() + "' is not a known qube");
                }
                return q.templateForDispvms() && q.tags().contains(token.value());
            }
            default:
                throw new AssertionError(token.kind());
        }
    }

    /**
     * Names or {@code uuid:} forms of the same qube: equal strings, or one side {@code uuid:U}
     * and the other the name of the qube with uuid U (unknown names never match via uuid).
     */
    public static boolean sameQube(SystemInfo system, String a, String b) {
        boolean aUuid = a.startsWith("uuid:");
        boolean bUuid = b.startsWith("uuid:");
        if (aUuid) {
            if (bUuid) {
                return a.equals(b);
            }
            QubeInfo q = system.get(b);
            return q != null && q.uuid() != null && a.length() == q.uuid().length() + 5
                    && a.regionMatches(5, q.uuid(), 0, q.uuid().length());
        }
        if (bUuid) {
            QubeInfo q = system.get(a);
            return q != null && q.uuid() != null && b.length() == q.uuid().length() + 5
                    && b.regionMatches(5, q.uuid(), 0, q.uuid().length());
        }
        return a.equals(b);
    }
}
