package dev.qrexec.policy.eval;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenContext;
import dev.qrexec.policy.token.TokenKind;
import dev.qrexec.policy.token.TokenSyntaxException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Evaluates requests against a loaded policy (spec 5): builds and verifies the request, finds the
 * first matching rule through the {@link RuleIndex}, and applies its action. Immutable and
 * thread-safe; every evaluation works on its own {@link RequestContext}.
 */
public final class Evaluator {

    private static final Logger LOG = System.getLogger(Evaluator.class.getName());

    private final RuleIndex index;
    /** "denied by policy F:L" per rule index, built once: the most frequent answer costs no string work. */
    private final String[] denyMessages;

    public Evaluator(RuleIndex index, List<Rule> rules) {
        this.index = index;
        this.denyMessages = new String[rules.size()];
        for (Rule r : rules) {
            denyMessages[r.index()] = "denied by policy " + r.location();
        }
    }

    /** The outcome of building a request: a context to evaluate, or the denial of the request itself. */
    public record Built(RequestContext context, Decision.Deny denial) {
    }

    /**
     * Request building (spec 5.1): {@code ""} is {@code @default}; an invalid intended-target token
     * is a request error; unknown names become {@code @default}; {@code @dispvm:X} needs X to be a
     * disposable template; a requested source must be a RemoteVM relayed by the source.
     */
    public static Built build(PolicyRequest request, SystemInfo system) {
        String target = request.intendedTarget().isEmpty() ? "@default" : request.intendedTarget();
        QubeToken token;
        try {
            token = QubeToken.parse(target, TokenContext.INTENDED_TARGET);
        } catch (TokenSyntaxException e) {
            return denied(new Decision.Deny("<unknown>:0: " + e.getMessage(), false, true, null, null));
        }
        TokenKind kind = token.kind();
        QubeInfo targetQube = system.get(target);
        if (kind == TokenKind.LITERAL && targetQube == null) {
            LOG.log(Level.DEBUG, "qrexec: target {0} does not exist, using @default instead", target);
            target = "@default";
            kind = TokenKind.DEFAULT;
        } else if (kind == TokenKind.DISPVM_TEMPLATE) {
            QubeInfo template = system.get(token.value());
            if (template == null || !template.templateForDispvms()) {
                return denied(Decision.Deny.of("not a template for dispvm: " + token.value(), true, null));
            }
        }
        String source = request.source();
        String requested = request.requestedSource();
        if (!requested.isEmpty()) {
            QubeInfo remote = system.get(requested);
            String error = null;
            if (remote == null) {
                error = "unknown requested source qube '" + requested + "'";
            } else if (!remote.isRemote()) {
                error = requested + ": requested source is only authorized for RemoteVM";
            } else if (!source.equals(remote.relayvm())) {
                error = source + " is not a relay for " + requested;
            }
            if (error != null) {
                return denied(new Decision.Deny(error, true, true, null, null));
            }
            source = requested;
        }
        String value = kind == TokenKind.DISPVM_TEMPLATE ? token.value() : target;
        return new Built(RequestContext.of(system, request.service(), request.argument(), source,
                system.get(source), target, kind, value, targetQube), null);
    }

    private static Built denied(Decision.Deny deny) {
        return new Built(null, deny);
    }

    public Decision evaluate(PolicyRequest request, SystemInfo system) {
        Built built = build(request, system);
        if (built.denial() != null) {
            return built.denial();
        }
        RequestContext ctx = built.context();
        Rule rule = null;
        try {
            rule = firstMatch(ctx);
            if (rule == null) {
                return Decision.Deny.of("no matching rule found", true, null);
            }
            return switch (rule.action()) {
                case DENY -> Decision.Deny.of(denyMessages[rule.index()], rule.params().notifyUser(), rule);
                case ALLOW -> allow(rule, ctx);
                case ASK -> ask(rule, ctx);
            };
        } catch (ReferenceCrash crash) {
            LOG.log(Level.WARNING, "{0}: denied quietly where the reference engine crashes: {1}", request,
                    crash.getMessage());
            Rule where = rule != null ? rule : crash.rule();
            return new Decision.Deny("denied: " + crash.getMessage(), false, false, crash.getMessage(), where);
        }
    }

    /** The first rule matching all four columns, or null. */
    public Rule firstMatch(RequestContext ctx) throws ReferenceCrash {
        RuleIndex.Candidates candidates = index.candidates(ctx.service(), ctx.argument()).fromStart();
        for (CompiledRule r = candidates.nextCompiled(); r != null; r = candidates.nextCompiled()) {
            try {
                if (r.matchesSource(ctx) && r.matchesTarget(ctx)) {
                    return r.rule;
                }
            } catch (ReferenceCrash crash) {
                throw crash.at(r.rule);
            }
        }
        return null;
    }

    private static Decision allow(Rule rule, RequestContext ctx) throws ReferenceCrash {
        QubeToken redirect = rule.params().target();
        String target;
        TokenKind kind;
        if (redirect == null) {
            target = ctx.target();
            kind = ctx.targetKind();
        } else {
            // a redirect is verified like an intended target (spec 5.3 step 1)
            target = redirect.text();
            kind = redirect.kind();
            if (kind == TokenKind.LITERAL && !ctx.system().contains(target)) {
                target = "@default";
                kind = TokenKind.DEFAULT;
            } else if (kind == TokenKind.DISPVM_TEMPLATE) {
                QubeInfo template = ctx.system().get(redirect.value());
                if (template == null || !template.templateForDispvms()) {
                    return Decision.Deny.of("not a template for dispvm: " + redirect.value(), true, rule);
                }
            }
        }
        if (kind == TokenKind.DEFAULT) {
            return Decision.Deny.of("policy define 'allow' action at " + rule.location()
                    + " but no target is specified by caller or policy", true, rule);
        }
        if (kind == TokenKind.DISPVM) {
            String template = ctx.sourceDefaultDispvm();
            if (template == null) {
                return Decision.Deny.of("policy define 'allow' action to @dispvm at " + rule.location()
                        + " but no DispVM base is set for this VM", true, rule);
            }
            target = QubeToken.DISPVM_PREFIX + template;
        } else if (kind == TokenKind.ADMINVM) {
            target = QubeToken.DOM0;
        }
        if (!rule.params().autostart() && !allowedWithoutAutostart(target, ctx.system())) {
            return Decision.Deny.of("target " + target + " is denied because it would require autostart",
                    rule.params().notifyUser(), rule);
        }
        return new Decision.Allow(target, rule.params().user(), rule.params().autostart(), rule.params().notifyUser(),
                ctx.target(), rule);
    }

    private Decision ask(Rule rule, RequestContext ctx) throws ReferenceCrash {
        QubeToken redirect = rule.params().target();
        List<String> targets;
        if (redirect != null) {
            targets = new ArrayList<>(1);
            targets.add(redirect.isDom0() ? QubeToken.DOM0 : redirect.text());
        } else {
            targets = AskCandidates.collect(index.candidates(ctx.service(), ctx.argument()), ctx);
        }
        if (!rule.params().autostart()) {
            List<String> kept = new ArrayList<>(targets.size());
            for (String t : targets) {
                if (allowedWithoutAutostart(t, ctx.system())) {
                    kept.add(t);
                }
            }
            targets = kept;
        }
        if (targets.isEmpty()) {
            return Decision.Deny.of("policy define 'ask' action at " + rule.location()
                    + " but no target is available to choose from", true, rule);
        }
        String defaultTarget = null;
        QubeToken dt = rule.params().defaultTarget();
        if (dt != null) {
            if (dt.kind() == TokenKind.DISPVM) {
                String template = ctx.sourceDefaultDispvm();
                defaultTarget = template == null ? null : QubeToken.DISPVM_PREFIX + template;
            } else if (dt.isDom0()) {
                defaultTarget = QubeToken.DOM0;
            } else {
                defaultTarget = dt.text();
            }
            if (defaultTarget != null && !targets.contains(defaultTarget)) {
                LOG.log(Level.DEBUG, "policy define default_target={0} at {1} but it is not among allowed targets {2}",
                        defaultTarget, rule.location(), targets);
                defaultTarget = null;
            }
        }
        Collections.sort(targets);
        return new Decision.Ask(targets, defaultTarget, rule.params().user(), rule.params().autostart(),
                rule.params().notifyUser(), ctx.target(), rule);
    }

    /** Spec 5.3 step 4: dom0 always; disposables never; other qubes only when already running. */
    static boolean allowedWithoutAutostart(String target, SystemInfo system) throws ReferenceCrash {
        if (QubeToken.isDom0(target)) {
            return true;
        }
        if (target.startsWith("@dispvm")) {
            return false;
        }
        QubeInfo q = system.get(target);
        if (q == null) {
            throw new ReferenceCrash("AssertionError", "autostart=no with target '" + target
                    + "', which is not a known qube");
        }
        return q.isRunning();
    }
}
