package dev.qrexec.policy.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** One run of the CLI: exit code and what it printed. */
record CliRun(int exit, String out, String err) {

    static CliRun withStdin(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = PolicyCli.execute(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(exit, out.toString(), err.toString());
    }

    static CliRun run(String... args) {
        return withStdin("", args);
    }

    String[] outLines() {
        return out.isEmpty() ? new String[0] : out.split("\n");
    }
}
