package dev.qrexec.policy.cli;

import static dev.qrexec.policy.testing.Fixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LintCommandTest {

    @TempDir
    Path tmp;

    private String dir(String name) {
        return tmp.resolve(name).toString();
    }

    @Test
    void cleanPolicyPrintsTheSummaryAndExitsZero() {
        write(tmp.resolve("d/30-user.policy"), "# user rules\nqubes.Filecopy * work vault allow\n");
        write(tmp.resolve("d/include/x"), "work vault deny\n");
        write(tmp.resolve("d/40-inc.policy"), "!include-service test.X * include/x\n");
        CliRun r = CliRun.run("lint", dir("d"));
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(new String[] {dir("d") + ": 3 files, 2 rules, no errors"}, r.outLines());
    }

    @Test
    void syntaxErrorIsPathLineErrorAndExitsOne() {
        write(tmp.resolve("d/30-user.policy"), "\n\nqubes.Filecopy * work vault Allow\n");
        CliRun r = CliRun.run("lint", dir("d"));
        assertEquals(1, r.exit());
        assertArrayEquals(new String[] {
            dir("d/30-user.policy") + ":3: error: invalid action: Allow",
            dir("d") + ": 1 file, 0 rules, 1 error"}, r.outLines());
    }

    @Test
    void errorInAnIncludedFileNamesThatFile() {
        write(tmp.resolve("d/include/x"), "work vault allow\nwork\n");
        write(tmp.resolve("d/40-inc.policy"), "!include-service test.X * include/x\n");
        CliRun r = CliRun.run("lint", dir("d"));
        assertEquals(1, r.exit());
        assertEquals(dir("d/include/x") + ":2: error: wrong number of fields", r.outLines()[0]);
    }

    @Test
    void invalidFileNameIsAnErrorWithoutLine() {
        write(tmp.resolve("d/30-User.policy"), "qubes.Filecopy * work vault allow\n");
        CliRun r = CliRun.run("lint", dir("d"));
        assertEquals(1, r.exit());
        assertTrue(r.outLines()[0].startsWith("error: "), r.out());
        assertTrue(r.outLines()[0].contains("30-User.policy"), r.out());
    }

    @Test
    void missingDirectoryIsAnError() {
        CliRun r = CliRun.run("lint", dir("absent"));
        assertEquals(1, r.exit());
        assertEquals(dir("absent") + ": error: no such directory", r.outLines()[0]);
    }

    @Test
    void warnsAboutUnreachableRulesAndDeadDefaultTargets() {
        write(tmp.resolve("d/30-user.policy"), String.join("\n",
                "qubes.Filecopy * @anyvm @anyvm ask",
                "qubes.Filecopy * work vault allow",           // shadowed by line 1
                "qubes.Filecopy * work dom0 allow",            // not shadowed: @anyvm never matches dom0
                "* * @adminvm @anyvm deny",
                "test.Svc * dom0 @anyvm allow",                // shadowed: dom0 == @adminvm as a source
                "test.Gpg * work @default ask default_target=gpg",  // nothing offers gpg
                "test.Ask * work vault ask target=vault default_target=work",
                "* * @dispvm:default-dvm @anyvm allow",        // matches no source
                "") );
        CliRun r = CliRun.run("lint", dir("d"));
        assertEquals(0, r.exit(), "warnings do not fail lint");
        String f = dir("d/30-user.policy");
        assertArrayEquals(new String[] {
            f + ":2: warning: rule is unreachable: every request it matches is decided first by " + f
                    + ":1 (qubes.Filecopy * @anyvm @anyvm ask)",
            f + ":5: warning: rule is unreachable: every request it matches is decided first by " + f
                    + ":4 (* * @adminvm @anyvm deny)",
            f + ":6: warning: default_target=gpg is never preselected: no allow or ask rule for test.Gpg offers it",
            f + ":7: warning: default_target=work is never preselected: this ask offers only vault",
            f + ":8: warning: rule never matches: @dispvm:default-dvm in the source column matches no caller"
                    + " (a caller is never a disposable template)",
            dir("d") + ": 1 file, 8 rules, no errors, 5 warnings"}, r.outLines());
    }

    @Test
    void withSystemInfoWarnsAboutUnknownNamesTagsAndTypes() {
        write(tmp.resolve("system.json"), Fixtures.SYSTEM_JSON);
        write(tmp.resolve("d/30-user.policy"), String.join("\n",
                "test.A * work wrok allow",
                "test.B * @tag:nope @type:AppVM allow target=@dispvm:vault",
                "test.C * @type:Weird @dispvm:@tag:work allow",
                "test.D * work @dispvm:default-dvm allow",
                ""));
        CliRun r = CliRun.run("lint", "--system-info", tmp.resolve("system.json").toString(), dir("d"));
        assertEquals(0, r.exit());
        String f = dir("d/30-user.policy");
        assertArrayEquals(new String[] {
            f + ":1: warning: unknown qube 'wrok'",
            f + ":2: warning: no qube has tag 'nope'",
            f + ":2: warning: 'vault' in @dispvm:vault is not a disposable template (template_for_dispvms is false)",
            f + ":3: warning: no qube has type 'Weird'",
            dir("d") + ": 1 file, 4 rules, no errors, 4 warnings"}, r.outLines());
    }

    @Test
    void unreadableSystemInfoIsAUsageError() {
        write(tmp.resolve("d/30-user.policy"), "test.A * work vault allow\n");
        CliRun r = CliRun.run("lint", "--system-info", dir("none.json"), dir("d"));
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("cannot read system info"), r.err());
    }

    @Test
    void theExamplePolicyLintsClean() {
        Path root = Path.of(System.getProperty("qrexec.root", ".."));
        CliRun r = CliRun.run("lint", "--system-info", root.resolve("policies-examples/system-info.json").toString(),
                root.resolve("policies-examples/policy.d").toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals(1, r.outLines().length, "no warnings: " + r.out());
        assertTrue(r.out().endsWith("no errors\n"), r.out());
    }

    @Test
    void lintWithoutDirectoryIsAUsageError() {
        CliRun r = CliRun.run("lint");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Missing required parameter"), r.err());
    }
}
