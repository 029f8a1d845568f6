package dev.qrexec.policy.load;

import dev.qrexec.policy.Rule;
import dev.qrexec.policy.SourceLocation;
import dev.qrexec.policy.token.PyRepr;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One load of a policy: the mutable state of walking files and directives. Confined to the
 * thread calling {@link PolicyLoader#load}.
 */
final class LoadSession {

    private static final Logger LOG = System.getLogger(PolicyLoader.class.getName());
    /** Deeper nesting than this is certainly a mistake; it also bounds the Java stack. */
    static final int MAX_INCLUDE_DEPTH = 40;
    private static final String POLICY_SUFFIX = ".policy";

    private final PolicyLocation location;
    private final List<Path> displayRoots = new ArrayList<>();
    private final List<Rule> rules = new ArrayList<>();
    /** Canonical paths of the files being parsed, outermost first: an include of one of them is a cycle. */
    private final Deque<Path> includeStack = new ArrayDeque<>();
    /** Relative include paths resolve against this: the policy directory of the top-level file, or the legacy directory. */
    private Path base;

    LoadSession(PolicyLocation location) {
        this.location = location;
        for (Path dir : location.directories()) {
            Path abs = dir.toAbsolutePath().normalize();
            displayRoots.add(abs);
            try {
                displayRoots.add(abs.toRealPath());
            } catch (IOException e) {
                // a missing directory simply shows absolute names; listing it reports the error
            }
        }
    }

    List<Rule> load() throws PolicyLoadException {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path dir : location.directories()) {
            for (Path file : policyFiles(dir)) {
                byName.putIfAbsent(file.getFileName().toString(), file);
            }
        }
        List<Path> files = new ArrayList<>(byName.values());
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (Path file : files) {
            base = file.getParent();
            loadFile(file, display(file), false, null, null);
        }
        return rules;
    }

    /**
     * The eligible files of a directory, sorted (spec 1.1): regular files (symlinks followed) whose
     * last suffix is {@code .policy} and whose name does not start with a dot; one such file with a
     * name outside {@code [0-9a-z_.-]} fails the whole load.
     */
    private List<Path> policyFiles(Path dir) throws PolicyLoadException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : (Iterable<Path>) entries::iterator) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || !name.endsWith(POLICY_SUFFIX) || name.length() == POLICY_SUFFIX.length()
                        || !Files.isRegularFile(p)) {
                    continue;
                }
                files.add(p);
            }
        } catch (IOException | RuntimeException e) {
            throw failedToLoad(dir, e);
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (Path p : files) {
            if (!p.getFileName().toString().chars().allMatch(LoadSession::isFileNameChar)) {
                throw new PolicyLoadException(null, 0, "invalid filename: " + p);
            }
        }
        return files;
    }

    private static boolean isFileNameChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    }

    /** How a file is named in messages: relative to the policy directory holding it, else absolute. */
    private String display(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        for (Path root : displayRoots) {
            if (abs.startsWith(root) && !abs.equals(root)) {
                return root.relativize(abs).toString();
            }
        }
        return abs.toString();
    }

    /**
     * Parses one file, new format ({@code service == null && !serviceSyntax}) or old format with
     * the given service and argument.
     */
    private void loadFile(Path file, String shownAs, boolean serviceSyntax, RuleParser.ServiceAndArgument sa,
                          SourceLocation includedFrom) throws PolicyLoadException {
        Path canonical = canonical(file);
        if (includeStack.contains(canonical)) {
            StringBuilder chain = new StringBuilder();
            boolean inCycle = false;
            for (Path p : includeStack) {
                inCycle |= p.equals(canonical);
                if (inCycle) {
                    chain.append(display(p)).append(" -> ");
                }
            }
            chain.append(shownAs);
            throw RuleParser.error(includedFrom, "include cycle: " + chain);
        }
        if (includeStack.size() >= MAX_INCLUDE_DEPTH) {
            throw RuleParser.error(includedFrom, "includes nested deeper than " + MAX_INCLUDE_DEPTH + " levels");
        }
        includeStack.addLast(canonical);
        try {
            String text;
            try {
                text = PolicyFileReader.decode(Files.readAllBytes(file));
            } catch (CharacterCodingException e) {
                throw new PolicyLoadException(shownAs, 0, "file is not valid UTF-8", e);
            } catch (IOException e) {
                throw failedToLoad(file, e);
            }
            for (PolicyFileReader.Line line : PolicyFileReader.lines(text)) {
                SourceLocation where = new SourceLocation(shownAs, line.number());
                if (serviceSyntax) {
                    serviceLine(line, where, sa);
                } else {
                    newFormatLine(line, where);
                }
            }
        } finally {
            includeStack.removeLast();
        }
    }

    private void newFormatLine(PolicyFileReader.Line line, SourceLocation where) throws PolicyLoadException {
        String first = line.first();
        if (first.charAt(0) == '#') {
            return;
        }
        if (first.charAt(0) != '!') {
            rules.add(RuleParser.parseRule(line.words(), where, line.joined(), rules.size()));
            return;
        }
        List<String> params = line.words().subList(1, line.words().size());
        switch (first) {
            case "!include" -> {
                requireParams(params, 1, where);
                Path target = includedFile(params.get(0), where);
                loadFile(target, display(target), false, null, where);
            }
            case "!include-dir" -> {
                requireParams(params, 1, where);
                Path dir = resolve(params.get(0), where);
                if (!Files.isDirectory(dir)) {
                    throw RuleParser.error(where, "not a directory: " + dir);
                }
                for (Path file : policyFiles(dir)) {
                    loadFile(file, display(file), false, null, where);
                }
            }
            case "!include-service" -> {
                requireParams(params, 3, where);
                RuleParser.ServiceAndArgument sa =
                        RuleParser.validateServiceAndArgument(params.get(0), params.get(1), where);
                Path target = includedFile(params.get(2), where);
                loadFile(target, display(target), true, sa, where);
            }
            case "!compat-4.0" -> {
                requireParams(params, 0, where);
                LOG.log(Level.WARNING, "{0}: !compat-4.0 is transitional and will be deprecated", where);
                compat40(where);
            }
            default -> throw RuleParser.error(where, "invalid directive");
        }
    }

    /** A line of the old syntax (spec 1.4): textual substitutions first, then only {@code !include} or a rule. */
    private void serviceLine(PolicyFileReader.Line line, SourceLocation where, RuleParser.ServiceAndArgument sa)
            throws PolicyLoadException {
        if (line.first().charAt(0) == '#') {
            return;
        }
        String rewritten = line.joined().replace("$include:", "!include ").replace('$', '@').replace(',', ' ');
        List<String> words = PythonWhitespace.split(rewritten);
        if (rewritten.startsWith("!")) {
            if (!words.get(0).equals("!include")) {
                throw RuleParser.error(where, "invalid directive");
            }
            requireParams(words.subList(1, words.size()), 1, where);
            Path target = includedFile(words.get(1), where);
            loadFile(target, display(target), true, sa, where);
            return;
        }
        String text = (sa.service() == null ? "*" : sa.service()) + " " + (sa.argument() == null ? "*" : sa.argument())
                + " " + line.joined();
        rules.add(RuleParser.parseServiceRule(sa, words, where, text, rules.size()));
    }

    /** Splices in the legacy R4.0 directory (spec 1.5). */
    private void compat40(SourceLocation where) throws PolicyLoadException {
        Path savedBase = base;
        base = location.legacyDirectory();
        try {
            for (LegacyPolicy.Entry entry : LegacyPolicy.list(location.legacyDirectory())) {
                RuleParser.ServiceAndArgument sa =
                        RuleParser.validateServiceAndArgument(entry.service(), entry.argument(), where);
                Path file = canonical(entry.file());
                String shownAs = display(file);
                loadFile(file, shownAs, true, sa, where);
                if (!"*".equals(entry.argument())) {
                    // the implicit "deny everything else" of a per-argument R4.0 file
                    SourceLocation synthetic = new SourceLocation(shownAs, 0);
                    for (String line : List.of("@anyvm @anyvm deny", "@anyvm @adminvm deny")) {
                        rules.add(RuleParser.parseServiceRule(sa, PythonWhitespace.split(line), synthetic,
                                entry.service() + " " + entry.argument() + " " + line, rules.size()));
                    }
                }
            }
        } catch (IOException e) {
            throw failedToLoad(location.legacyDirectory(), e);
        } finally {
            base = savedBase;
        }
    }

    private static void requireParams(List<String> params, int count, SourceLocation where) throws PolicyLoadException {
        if (params.size() != count) {
            throw RuleParser.error(where, "invalid number of params");
        }
    }

    private Path includedFile(String path, SourceLocation where) throws PolicyLoadException {
        Path resolved = resolve(path, where);
        if (!Files.isRegularFile(resolved)) {
            throw RuleParser.error(where, "not a file: " + resolved);
        }
        return resolved;
    }

    /** Relative to the base directory, canonicalised (symlinks resolved where the path exists). */
    private Path resolve(String path, SourceLocation where) throws PolicyLoadException {
        try {
            return canonical(base.resolve(path).toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            throw RuleParser.error(where, "invalid path: " + PyRepr.str(path));
        }
    }

    private static Path canonical(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private static PolicyLoadException failedToLoad(Path path, Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new PolicyLoadException(null, 0, "failed to load " + path + " file: " + why, e);
    }

}
