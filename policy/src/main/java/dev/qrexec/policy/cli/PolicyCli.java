package dev.qrexec.policy.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code qrexec-policy}: the policy tool ({@code ./qrexec policy ...}). Subcommands are added as they land. */
@Command(name = "qrexec-policy",
        mixinStandardHelpOptions = true,
        description = "Lint, evaluate and serve qrexec policy.",
        subcommands = {CommandLine.HelpCommand.class})
public final class PolicyCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** Runs the tool and returns its exit code (the launcher exits with it). */
    public static int execute(String... args) {
        return new CommandLine(new PolicyCli()).execute(args);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
