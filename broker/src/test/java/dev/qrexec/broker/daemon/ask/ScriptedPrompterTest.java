package dev.qrexec.broker.daemon.ask;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ScriptedPrompterTest {

    private static Map<String, Object> question(String service, String argument, String source, String def) {
        return Map.of("service", service, "argument", argument, "source", source,
                "targets", List.of("personal", "vault"), "default_target", def);
    }

    @Test
    void theFirstMatchingRuleAnswersAndNoMatchDenies() {
        ScriptedPrompter p = ScriptedPrompter.parse("""
                # service       source  answer
                qubes.Filecopy  work    default
                qubes.Gpg+sign  *       first
                test.Pick       *       allow:vault
                test.No         *       deny
                """);
        assertEquals("allow:personal", p.answer(question("qubes.Filecopy", "+", "work", "personal")));
        assertEquals("deny", p.answer(question("qubes.Filecopy", "+", "work", "")), "no default: deny");
        assertEquals("deny", p.answer(question("qubes.Filecopy", "+", "personal", "personal")), "no rule");
        assertEquals("allow:personal", p.answer(question("qubes.Gpg", "+sign", "x", "")));
        assertEquals("deny", p.answer(question("qubes.Gpg", "+other", "x", "")));
        assertEquals("allow:vault", p.answer(question("test.Pick", "", "x", "")));
        assertEquals("deny", p.answer(question("test.No", "", "x", "personal")));
    }

    @Test
    void aMalformedRuleFailsWithItsLineNumber() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScriptedPrompter.parse("a b deny\n\nc d maybe\n"));
        assertTrue(e.getMessage().startsWith("line 3:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScriptedPrompter.parse("a deny\n"));
        assertTrue(e.getMessage().contains("expected 'SERVICE SOURCE ANSWER'"), e.getMessage());
    }
}
