package dev.qrexec.broker.cli;

import dev.qrexec.broker.admin.QvmCli;
import dev.qrexec.broker.agent.cli.AgentCli;
import dev.qrexec.broker.client.QrexecClient;
import dev.qrexec.broker.client.QrexecClientVm;
import dev.qrexec.broker.server.ServeCommand;
import dev.qrexec.policy.cli.PolicyCli;

import java.util.Arrays;

/**
 * Entry point of the {@code ./qrexec} launcher: the first word picks the tool.
 * Each tool parses its own arguments; this class only dispatches.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage();
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "policy":
                return PolicyCli.execute(rest);
            case "serve":
                return ServeCommand.execute(rest);
            case "agent":
                return AgentCli.execute(rest);
            case "qrexec-client-vm":
                return QrexecClientVm.execute(rest);
            case "qrexec-client":
                return QrexecClient.execute(rest);
            case "qvm":
                return QvmCli.execute(rest);
            case "prompt":
                return dev.qrexec.broker.daemon.ask.PromptCommand.execute(rest);
            case "demo":
                return dev.qrexec.broker.demo.DemoCommand.execute(rest);
            default:
                System.err.println("qrexec: unknown tool '" + args[0] + "'");
                usage();
                return 2;
        }
    }

    private static void usage() {
        System.err.println("usage: qrexec TOOL [ARGS...]");
        System.err.println("tools:");
        System.err.println("  policy            lint, evaluate and serve qrexec policy (qrexec policy --help)");
        System.err.println("  serve             run the broker daemon (qrexec serve --help)");
        System.err.println("  agent             run a qube's agent on the socket transport (qrexec agent --help)");
        System.err.println("  qrexec-client-vm  call a service from a qube");
        System.err.println("  qrexec-client     run a command or service in a qube from dom0");
        System.err.println("  qvm               manage qubes through the admin socket (qrexec qvm --help)");
        System.err.println("  prompt            answer the broker's ask prompts in this terminal (qrexec prompt --help)");
        System.err.println("  demo              a small system on sandbox qubes, calls into preloaded disposables");
    }
}
