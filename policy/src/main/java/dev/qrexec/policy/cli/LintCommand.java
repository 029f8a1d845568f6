package dev.qrexec.policy.cli;

import dev.qrexec.policy.Policy;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.cli.lint.Diagnostic;
import dev.qrexec.policy.cli.lint.PolicyLinter;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reload.SystemInfoFile;
import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code qrexec-policy lint DIR...}: load and validate a policy, then look for likely mistakes. */
@Command(name = "lint",
        description = {
            "Check a policy the way the daemon loads it, and warn about likely mistakes.",
            "Prints 'path:line: error: message' for what stops the policy from loading (every call would "
                    + "be denied), 'path:line: warning: message' for rules that can never match, "
                    + "default_target values that are never offered and, with --system-info, qube names, "
                    + "tags and types that no qube has. Ends with a summary line.",
            "Exit status: 0 when the policy loads (warnings or not), 1 when it does not, 2 on usage errors."},
        mixinStandardHelpOptions = true,
        version = PolicyCli.VERSION)
final class LintCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "DIR",
            description = "Policy directories in priority order, as the daemon reads them (one policy).")
    List<Path> directories;

    @Option(names = "--system-info", paramLabel = "FILE",
            description = "System info (GetSystemInfo JSON) to check qube names, tags and types against.")
    Path systemInfo;

    @Option(names = "--legacy-dir", paramLabel = "DIR", defaultValue = "/etc/qubes-rpc/policy",
            description = "Directory spliced in by !compat-4.0 (default: ${DEFAULT-VALUE}).")
    Path legacyDirectory;

    @Override
    public Integer call() throws IOException {
        CliLogging.threshold(java.util.logging.Level.WARNING);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PolicyDirs dirs = new PolicyDirs(directories, legacyDirectory);
        List<String> problems = dirs.problems();
        if (!problems.isEmpty()) {
            problems.forEach(p -> out.println(p.replaceFirst(": ", ": error: ")));
            out.println(summary(dirs, 0, 0, problems.size(), 0));
            return 1;
        }
        SystemInfo system = null;
        if (systemInfo != null) {
            try {
                system = SystemInfoFile.read(systemInfo);
            } catch (IOException e) {
                err.println("qrexec-policy lint: cannot read system info: " + e.getMessage());
                return 2;
            }
        }
        PolicyLocation location = dirs.location();
        Policy policy;
        try {
            policy = PolicyLoader.load(location);
        } catch (PolicyLoadException e) {
            out.println(new Diagnostic(dirs.display(e.file()), e.line(), Diagnostic.Severity.ERROR, e.text()).format());
            out.println(summary(dirs, dirs.topLevelFiles().size(), 0, 1, 0));
            return 1;
        }
        List<Diagnostic> warnings = new PolicyLinter(dirs::display).lint(policy, system);
        warnings.forEach(d -> out.println(d.format()));
        out.println(summary(dirs, countFiles(dirs, policy), policy.rules().size(), 0, warnings.size()));
        return 0;
    }

    /** Top-level files plus every included file that holds rules. */
    private static int countFiles(PolicyDirs dirs, Policy policy) throws IOException {
        Set<String> files = new LinkedHashSet<>();
        dirs.topLevelFiles().forEach(f -> files.add(f.toString()));
        for (Rule rule : policy.rules()) {
            files.add(dirs.display(rule.location().file()));
        }
        return files.size();
    }

    private static String summary(PolicyDirs dirs, int files, int rules, int errors, int warnings) {
        String where = String.join(" ", dirs.directories().stream().map(Path::toString).toList());
        return where + ": " + files + (files == 1 ? " file, " : " files, ") + rules + (rules == 1 ? " rule, " : " rules, ")
                + (errors == 0 ? "no errors" : errors + (errors == 1 ? " error" : " errors"))
                + (warnings == 0 ? "" : ", " + warnings + (warnings == 1 ? " warning" : " warnings"));
    }
}
