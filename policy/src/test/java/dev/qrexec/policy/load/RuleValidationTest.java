package dev.qrexec.policy.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qrexec.policy.Action;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.RuleParams;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Spec 2 and 4: each rule check, in the reference's order, with its exact text. */
class RuleValidationTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "a+b * @anyvm @anyvm allow             | service 'a+b' contains invalid characters: ('+',)",
        "a/b@c * @anyvm @anyvm allow           | service 'a/b@c' contains invalid characters: ('/', '@')",
        "svc +a/b @anyvm @anyvm allow          | argument '+a/b' contains invalid characters: ('/',)",
        "svc arg @anyvm @anyvm allow           | argument 'arg' does not start with +",
        "* +x @anyvm @anyvm allow              | only * argument allowed for * service",
        "* * @default @anyvm allow             | invalid source token: '@default'",
        "* * @anyvm @tag:@x allow              | invalid target token: '@tag:@x'",
        "* * @anyvm @anyvm permit              | invalid action: permit",
        "* * @anyvm @anyvm allow user          | invalid action parameter syntax: 'user'",
        "* * @anyvm @anyvm allow user=a user=b | parameter given twice: 'user'",
        "* * @anyvm @anyvm allow autostart=1   | 'autostart' is '1', but can be only 'yes' or 'no'",
        "* * @anyvm @anyvm deny notify=no user=x | invalid parameters for action Deny: ['notify=no', 'user=x']",
        "* * @anyvm @anyvm ask target=x bad=1  | invalid parameters for action Ask: ['target=x', 'bad=1']",
        "* * @anyvm @anyvm allow =x            | invalid parameters for action Allow: ['=x']",
        "* * @anyvm @anyvm allow target=       | invalid empty redirect token",
        "* * @anyvm @anyvm ask default_target=@default | invalid redirect token: '@default'",
        "* * @anyvm @anyvm ask target=@anyvm default_target=@x | invalid redirect token: '@anyvm'",
        "* * @anyvm @default allow user=root   | allow action for @default rule must specify target= option",
        "svc * @anyvm                          | wrong number of fields",
    })
    void invalidRules(String line, String message) {
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> Fixtures.policy(dir, "\n" + line + "\n"));
        assertEquals("f.policy:2: " + message, e.getMessage());
        assertEquals(message, e.text());
    }

    @Test
    void parametersAndDefaults() throws Exception {
        Policy p = Fixtures.policy(dir, String.join("\n",
                "* * @anyvm @anyvm deny",
                "* * @anyvm @anyvm allow",
                "* * @anyvm @anyvm ask",
                "* * @anyvm @default ask target=vault default_target=@dispvm user= notify=yes autostart=no",
                "svc + allow @anyvm deny notify=no",
                "* * #x vault allow user=a=b", ""));
        assertEquals(RuleParams.defaults(Action.DENY), p.rules().get(0).params());
        assertEquals(new RuleParams(null, null, null, true, true), p.rules().get(0).params());
        assertEquals(new RuleParams(null, null, null, false, true), p.rules().get(1).params());
        assertEquals(new RuleParams(null, null, null, false, true), p.rules().get(2).params());
        RuleParams asked = p.rules().get(3).params();
        assertEquals("vault", asked.target().text());
        assertEquals("@dispvm", asked.defaultTarget().text());
        assertEquals("", asked.user());
        assertEquals(true, asked.notifyUser());
        assertEquals(false, asked.autostart());
        assertEquals("allow", p.rules().get(4).source().text()); // a qube may be called "allow"
        assertEquals("+", p.rules().get(4).argument());
        assertEquals("#x", p.rules().get(5).source().text());
        assertEquals("a=b", p.rules().get(5).params().user());
    }

    @Test
    void canonicalText() throws Exception {
        Policy p = Fixtures.policy(dir, "svc  +a\twork @default ask default_target=vault user=root notify=yes target=@dispvm\n"
                + "* * @anyvm @anyvm deny notify=no\n");
        assertEquals("svc\t+a\twork\t@default\task target=@dispvm default_target=vault user=root",
                p.rules().get(0).canonicalText());
        assertEquals("*\t*\t@anyvm\t@anyvm\tdeny", p.rules().get(1).canonicalText());
    }
}
