package dev.qrexec.policy.cli.lint;

import dev.qrexec.policy.Action;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.QubeInfo;
import dev.qrexec.policy.system.SystemInfo;
import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Warnings about a policy that loads: rules no request can reach, {@code default_target}s that are
 * never among the offered targets, and (given the system info) names, tags and types that no qube
 * has. Each check is conservative: it warns only when it can prove the problem.
 *
 * <p>Stateless; {@code displayPath} turns a rule's file (relative to its policy directory) into the
 * path shown to the user.
 */
public final class PolicyLinter {

    private final Function<String, String> displayPath;

    public PolicyLinter(Function<String, String> displayPath) {
        this.displayPath = Objects.requireNonNull(displayPath, "displayPath");
    }

    /**
     * Lints a loaded policy.
     *
     * @param system the system the policy is meant for, or null to skip the checks that need it
     */
    public List<Diagnostic> lint(Policy policy, SystemInfo system) {
        List<Diagnostic> out = new ArrayList<>();
        List<Rule> rules = policy.rules();
        Set<String> tags = system == null ? Set.of()
                : system.qubes().stream().flatMap(q -> q.tags().stream()).collect(Collectors.toSet());
        Set<String> types = system == null ? Set.of()
                : system.qubes().stream().map(QubeInfo::type).filter(Objects::nonNull).collect(Collectors.toSet());
        // Rules that could shadow a rule of service S: the earlier ones of S and of '*'. Grouping
        // keeps the pairwise check near-linear for large policies with many services.
        Map<String, List<Rule>> earlierByService = new HashMap<>();
        List<Rule> earlierAnyService = new ArrayList<>();
        for (Rule rule : rules) {
            checkReachability(rule, rule.anyService() ? earlierAnyService
                    : earlierByService.getOrDefault(rule.service(), List.of()), earlierAnyService, out);
            if (rule.action() == Action.ASK && rule.params().defaultTarget() != null) {
                checkDefaultTarget(rule, rules, system, out);
            }
            if (system != null) {
                checkNames(rule, system, tags, types, out);
            }
            if (rule.anyService()) {
                earlierAnyService.add(rule);
            } else {
                earlierByService.computeIfAbsent(rule.service(), k -> new ArrayList<>()).add(rule);
            }
        }
        return out;
    }

    private void warn(Rule rule, String message, List<Diagnostic> out) {
        out.add(new Diagnostic(displayPath.apply(rule.location().file()), rule.location().line(),
                Diagnostic.Severity.WARNING, message));
    }

    private String where(Rule rule) {
        return displayPath.apply(rule.location().file()) + ":" + rule.location().line();
    }

    // --- unreachable rules ---------------------------------------------------------------------

    private void checkReachability(Rule rule, List<Rule> sameService, List<Rule> anyService, List<Diagnostic> out) {
        if (TokenCoverage.neverMatchesAsSource(rule.source())) {
            warn(rule, "rule never matches: " + rule.source().text()
                    + " in the source column matches no caller (a caller is never a disposable template)", out);
            return;
        }
        Rule shadow = firstCovering(rule, sameService, anyService);
        if (shadow != null) {
            warn(rule, "rule is unreachable: every request it matches is decided first by " + where(shadow)
                    + " (" + shadow.text() + ")", out);
        }
    }

    /** The earliest earlier rule matching every request {@code rule} matches, or null. */
    private static Rule firstCovering(Rule rule, List<Rule> sameService, List<Rule> anyService) {
        Rule best = null;
        for (List<Rule> candidates : List.of(sameService, anyService)) {
            for (Rule earlier : candidates) {
                if (best != null && earlier.index() > best.index()) {
                    break;
                }
                if (earlier != rule && covers(earlier, rule)) {
                    best = earlier;
                    break;
                }
            }
        }
        return best;
    }

    private static boolean covers(Rule earlier, Rule later) {
        boolean service = earlier.anyService() || Objects.equals(earlier.service(), later.service());
        boolean argument = earlier.anyArgument() || Objects.equals(earlier.argument(), later.argument());
        return service && argument
                && !TokenCoverage.neverMatchesAsSource(earlier.source())
                && TokenCoverage.covers(earlier.source(), later.source())
                && TokenCoverage.covers(earlier.target(), later.target());
    }

    // --- default_target ----------------------------------------------------------------------

    private void checkDefaultTarget(Rule ask, List<Rule> rules, SystemInfo system, List<Diagnostic> out) {
        QubeToken def = ask.params().defaultTarget();
        if (def.kind() == TokenKind.DISPVM) {
            return; // resolved per caller through its default_dispvm: nothing provable
        }
        if (def.kind() == TokenKind.LITERAL && def.text().startsWith("uuid:") && !def.isDom0()) {
            warn(ask, "default_target=" + def.text() + " is never preselected: the offered targets are qube names", out);
            return;
        }
        String wanted = def.isDom0() ? QubeToken.DOM0 : def.text();
        QubeToken redirect = ask.params().target();
        if (redirect != null) {
            String offered = redirect.isDom0() ? QubeToken.DOM0 : redirect.text();
            if (isFixed(redirect) && !offered.equals(wanted)) {
                warn(ask, "default_target=" + def.text() + " is never preselected: this ask offers only " + offered, out);
            }
            return;
        }
        for (Rule r : rules) {
            if (r.action() != Action.DENY && compatible(r, ask)
                    && TokenCoverage.sourcesMayOverlap(r.source(), ask.source())
                    && couldOffer(r.effectiveTarget(), def, system)) {
                return;
            }
        }
        warn(ask, "default_target=" + def.text() + " is never preselected: no allow or ask rule for "
                + (ask.anyService() ? "any service" : ask.service()) + " offers it", out);
    }

    private static boolean isFixed(QubeToken t) {
        return t.kind() == TokenKind.LITERAL || t.kind() == TokenKind.ADMINVM || t.kind() == TokenKind.DISPVM_TEMPLATE;
    }

    /** Whether some request could match both rules' service and argument columns. */
    private static boolean compatible(Rule r, Rule ask) {
        boolean service = r.anyService() || ask.anyService() || r.service().equals(ask.service());
        boolean argument = r.anyArgument() || ask.anyArgument() || r.argument().equals(ask.argument());
        return service && argument;
    }

    /** Whether the ask-candidate expansion of {@code token} (spec 5.5) may contain {@code def}. */
    private static boolean couldOffer(QubeToken token, QubeToken def, SystemInfo system) {
        boolean defDom0 = def.isDom0();
        boolean defDispvm = def.kind() == TokenKind.DISPVM_TEMPLATE;
        String name = defDispvm ? def.value() : def.text();
        QubeInfo qube = system == null ? null : system.get(defDom0 ? QubeToken.DOM0 : name);
        return switch (token.kind()) {
            case WILDCARD -> true;
            case ANYVM -> !defDom0;
            case ADMINVM -> defDom0;
            case LITERAL -> defDom0 ? token.isDom0() : !defDispvm && (token.text().equals(name)
                    || system != null && qube != null && token.text().equals("uuid:" + qube.uuid()));
            case TYPE -> !defDispvm && (qube == null ? system == null : token.value().equals(qube.type()));
            case TAG -> !defDispvm && (qube == null ? system == null : qube.tags().contains(token.value()));
            case DISPVM -> defDispvm; // the caller's default disposable template may be it
            case DISPVM_TEMPLATE -> defDispvm && token.value().equals(name);
            case DISPVM_TAG -> defDispvm && (qube == null ? system == null : qube.tags().contains(token.value()));
            case DEFAULT -> false;
        };
    }

    // --- names, tags and types ---------------------------------------------------------------

    private void checkNames(Rule rule, SystemInfo system, Set<String> tags, Set<String> types, List<Diagnostic> out) {
        List<QubeToken> tokens = new ArrayList<>(4);
        tokens.add(rule.source());
        tokens.add(rule.target());
        if (rule.params().target() != null) {
            tokens.add(rule.params().target());
        }
        if (rule.params().defaultTarget() != null) {
            tokens.add(rule.params().defaultTarget());
        }
        for (QubeToken t : tokens.stream().distinct().toList()) {
            switch (t.kind()) {
                case LITERAL -> {
                    if (!t.isDom0() && !system.contains(t.text())) {
                        warn(rule, "unknown qube '" + t.text() + "'", out);
                    }
                }
                case DISPVM_TEMPLATE -> {
                    QubeInfo q = system.get(t.value());
                    if (q == null) {
                        warn(rule, "unknown qube '" + t.value() + "' in " + t.text(), out);
                    } else if (!q.templateForDispvms()) {
                        warn(rule, "'" + t.value() + "' in " + t.text() + " is not a disposable template"
                                + " (template_for_dispvms is false)", out);
                    }
                }
                case TAG, DISPVM_TAG -> {
                    if (!tags.contains(t.value())) {
                        warn(rule, "no qube has tag '" + t.value() + "'", out);
                    }
                }
                case TYPE -> {
                    if (!types.contains(t.value())) {
                        warn(rule, "no qube has type '" + t.value() + "'", out);
                    }
                }
                default -> { }
            }
        }
    }
}
