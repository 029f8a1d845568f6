package dev.qrexec.policy.load;

import dev.qrexec.policy.Action;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.RuleParams;
import dev.qrexec.policy.SourceLocation;
import dev.qrexec.policy.token.PyRepr;
import dev.qrexec.policy.token.QubeToken;
import dev.qrexec.policy.token.TokenContext;
import dev.qrexec.policy.token.TokenKind;
import dev.qrexec.policy.token.TokenSyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds a {@link Rule} from the words of one line, with every check of spec 2 and 4 in the
 * reference's order and with its exact messages (first failure wins).
 */
final class RuleParser {

    /** Keys each action accepts (the reference's keyword arguments). */
    private static final Set<String> ALLOW_KEYS = Set.of("target", "user", "notify", "autostart");
    private static final Set<String> ASK_KEYS = Set.of("target", "default_target", "user", "notify", "autostart");
    private static final Set<String> DENY_KEYS = Set.of("notify");

    private RuleParser() {
    }

    /** A validated service/argument pair; null fields stand for {@code *}. */
    record ServiceAndArgument(String service, String argument) {
    }

    /** A rule line of the new format: {@code SERVICE ARGUMENT SOURCE TARGET ACTION [PARAM...]}. */
    static Rule parseRule(List<String> words, SourceLocation where, String text, int index)
            throws PolicyLoadException {
        if (words.size() < 5) {
            throw error(where, "wrong number of fields");
        }
        ServiceAndArgument sa = validateServiceAndArgument(words.get(0), words.get(1), where);
        return build(sa, words.get(2), words.get(3), words.get(4), words.subList(5, words.size()), where, text, index);
    }

    /**
     * A line of the old (service-less) format, after the {@code $}/{@code ,} substitutions:
     * {@code SOURCE TARGET ACTION [PARAM...]}.
     */
    static Rule parseServiceRule(ServiceAndArgument sa, List<String> words, SourceLocation where, String text,
                                 int index) throws PolicyLoadException {
        if (words.size() < 3) {
            throw error(where, "wrong number of fields");
        }
        return build(sa, words.get(0), words.get(1), words.get(2), words.subList(3, words.size()), where, text, index);
    }

    /** Checks of spec 2 step 2; {@code *} becomes null. */
    static ServiceAndArgument validateServiceAndArgument(String service, String argument, SourceLocation where)
            throws PolicyLoadException {
        String svc = "*".equals(service) ? null : service;
        String arg = "*".equals(argument) ? null : argument;
        if (svc != null) {
            List<String> bad = invalidCharacters(svc, true);
            if (!bad.isEmpty()) {
                throw error(where, "service " + PyRepr.str(svc) + " contains invalid characters: "
                        + PyRepr.tuple(bad));
            }
        }
        if (arg != null) {
            List<String> bad = invalidCharacters(arg, false);
            if (!bad.isEmpty()) {
                throw error(where, "argument " + PyRepr.str(arg) + " contains invalid characters: "
                        + PyRepr.tuple(bad));
            }
            if (!arg.startsWith("+")) {
                throw error(where, "argument " + PyRepr.str(arg) + " does not start with +");
            }
            if (svc == null) {
                throw error(where, "only * argument allowed for * service");
            }
        }
        return new ServiceAndArgument(svc, arg);
    }

    /** Distinct characters outside {@code [A-Za-z0-9+._-]} (plus {@code +} for services), sorted. */
    private static List<String> invalidCharacters(String s, boolean plusForbidden) {
        TreeSet<Integer> bad = new TreeSet<>();
        s.codePoints().forEach(cp -> {
            boolean ok = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')
                    || cp == '-' || cp == '.' || cp == '_' || (cp == '+' && !plusForbidden);
            if (!ok) {
                bad.add(cp);
            }
        });
        List<String> out = new ArrayList<>(bad.size());
        for (int cp : bad) {
            out.add(new String(Character.toChars(cp)));
        }
        return out;
    }

    private static Rule build(ServiceAndArgument sa, String sourceWord, String targetWord, String actionWord,
                              List<String> params, SourceLocation where, String text, int index)
            throws PolicyLoadException {
        QubeToken source = token(sourceWord, TokenContext.SOURCE, where);
        QubeToken target = token(targetWord, TokenContext.TARGET, where);
        Action action = Action.fromKeyword(actionWord);
        if (action == null) {
            throw error(where, "invalid action: " + actionWord);
        }
        Map<String, String> kwds = new LinkedHashMap<>();
        for (String param : params) {
            int eq = param.indexOf('=');
            if (eq < 0) {
                throw error(where, "invalid action parameter syntax: " + PyRepr.str(param));
            }
            String key = param.substring(0, eq);
            if (kwds.containsKey(key)) {
                throw error(where, "parameter given twice: " + PyRepr.str(key));
            }
            kwds.put(key, param.substring(eq + 1));
        }
        for (String key : List.of("notify", "autostart")) {
            String value = kwds.get(key);
            if (value != null && !value.equals("yes") && !value.equals("no")) {
                throw error(where, PyRepr.str(key) + " is " + PyRepr.str(value) + ", but can be only 'yes' or 'no'");
            }
        }
        Set<String> accepted = switch (action) {
            case ALLOW -> ALLOW_KEYS;
            case ASK -> ASK_KEYS;
            case DENY -> DENY_KEYS;
        };
        if (!accepted.containsAll(kwds.keySet())) {
            throw error(where, "invalid parameters for action " + className(action) + ": " + PyRepr.list(params));
        }
        QubeToken redirect = kwds.containsKey("target") ? token(kwds.get("target"), TokenContext.REDIRECT, where) : null;
        QubeToken defaultTarget = kwds.containsKey("default_target")
                ? token(kwds.get("default_target"), TokenContext.REDIRECT, where) : null;
        RuleParams defaults = RuleParams.defaults(action);
        boolean notify = kwds.containsKey("notify") ? kwds.get("notify").equals("yes") : defaults.notifyUser();
        boolean autostart = kwds.containsKey("autostart") ? kwds.get("autostart").equals("yes") : defaults.autostart();
        if (target.kind() == TokenKind.DEFAULT && action == Action.ALLOW && redirect == null) {
            throw error(where, "allow action for @default rule must specify target= option");
        }
        RuleParams rp = new RuleParams(redirect, defaultTarget, kwds.get("user"), notify, autostart);
        return new Rule(index, where, text, sa.service(), sa.argument(), source, target, action, rp);
    }

    private static String className(Action action) {
        return switch (action) {
            case ALLOW -> "Allow";
            case ASK -> "Ask";
            case DENY -> "Deny";
        };
    }

    private static QubeToken token(String word, TokenContext context, SourceLocation where) throws PolicyLoadException {
        try {
            return QubeToken.parse(word, context);
        } catch (TokenSyntaxException e) {
            throw error(where, e.getMessage());
        }
    }

    static PolicyLoadException error(SourceLocation where, String text) {
        return new PolicyLoadException(where.file(), where.line(), text);
    }
}
