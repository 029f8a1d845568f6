package dev.qrexec.policy.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code qrexec-policy}: the policy tool ({@code ./qrexec policy ...}). */
@Command(name = "qrexec-policy",
        mixinStandardHelpOptions = true,
        version = PolicyCli.VERSION,
        description = "Lint, evaluate and serve qrexec policy.",
        subcommands = {
            LintCommand.class,
            EvalCommand.class,
            ConformanceCommand.class,
            DaemonCommand.class,
            CommandLine.HelpCommand.class})
public final class PolicyCli implements Runnable {

    /** What {@code --version} prints (every subcommand too). */
    static final String VERSION = "qrexec-policy 0.1.0 (qrexec-java; policy language of qubes-core-qrexec 4.4)";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final InputStream stdin;

    private PolicyCli(InputStream stdin) {
        this.stdin = stdin;
    }

    /** Where {@code eval} reads request lines from. */
    InputStream stdin() {
        return stdin;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** Runs the tool and returns its exit code (the launcher exits with it). */
    public static int execute(String... args) {
        return execute(System.in, new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8), args);
    }

    /** Runs the tool with the given streams (for tests and embedding). */
    public static int execute(InputStream in, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new PolicyCli(in));
        cli.setOut(out);
        cli.setErr(err);
        try {
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
