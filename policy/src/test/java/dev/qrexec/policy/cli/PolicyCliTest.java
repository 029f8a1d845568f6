package dev.qrexec.policy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PolicyCliTest {

    @Test
    void withoutSubcommandIsAUsageError() {
        CliRun r = CliRun.run();
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("a subcommand is required"), r.err());
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        CliRun r = CliRun.run("lnit", "x");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("lnit"), r.err());
    }

    @Test
    void versionAndHelp() {
        CliRun version = CliRun.run("eval", "--version");
        assertEquals(0, version.exit());
        assertEquals(PolicyCli.VERSION + "\n", version.out());
        CliRun help = CliRun.run("--help");
        assertEquals(0, help.exit());
        for (String command : new String[] {"lint", "eval", "conformance", "daemon"}) {
            assertTrue(help.out().contains("  " + command + " "), command + " in\n" + help.out());
        }
    }
}
