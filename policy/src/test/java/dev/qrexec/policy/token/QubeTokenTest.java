package dev.qrexec.policy.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Spec 3.1: which token is valid in which column, and the reference's error texts. */
class QubeTokenTest {

    /** token, then SOURCE / TARGET / REDIRECT / INTENDED_TARGET: the kind, or the error. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "work               | LITERAL        | LITERAL        | LITERAL         | LITERAL",
        "uuid:abc           | LITERAL        | LITERAL        | LITERAL         | LITERAL",
        "dom0               | LITERAL        | LITERAL        | LITERAL         | LITERAL",
        "#x                 | LITERAL        | LITERAL        | LITERAL         | LITERAL",
        "*                  | WILDCARD       | WILDCARD       | invalid redirect token: '*' | invalid intendedtarget token: '*'",
        "@anyvm             | ANYVM          | ANYVM          | invalid redirect token: '@anyvm' | invalid intendedtarget token: '@anyvm'",
        "@adminvm           | ADMINVM        | ADMINVM        | ADMINVM         | ADMINVM",
        "@default           | invalid source token: '@default' | DEFAULT | invalid redirect token: '@default' | DEFAULT",
        "@type:AppVM        | TYPE           | TYPE           | invalid redirect token: '@type:AppVM' | invalid intendedtarget token: '@type:AppVM'",
        "@tag:t             | TAG            | TAG            | invalid redirect token: '@tag:t' | invalid intendedtarget token: '@tag:t'",
        "@dispvm            | invalid source token: '@dispvm' | DISPVM | DISPVM | DISPVM",
        "@dispvm:x          | DISPVM_TEMPLATE | DISPVM_TEMPLATE | DISPVM_TEMPLATE | DISPVM_TEMPLATE",
        "@dispvm:uuid:u     | DISPVM_TEMPLATE | DISPVM_TEMPLATE | DISPVM_TEMPLATE | DISPVM_TEMPLATE",
        "@dispvm:@tag:t     | DISPVM_TAG     | DISPVM_TAG     | invalid redirect token: '@dispvm:@tag:t' | invalid intendedtarget token: '@dispvm:@tag:t'",
        "@tag:              | invalid empty @tag: token: '@tag:' | invalid empty @tag: token: '@tag:' | invalid redirect token: '@tag:' | invalid intendedtarget token: '@tag:'",
        "@dispvm:           | invalid empty @dispvm: token: '@dispvm:' | invalid empty @dispvm: token: '@dispvm:' | invalid empty @dispvm: token: '@dispvm:' | invalid empty @dispvm: token: '@dispvm:'",
        "@dispvm:@tag:      | invalid empty @dispvm:@tag: token: '@dispvm:@tag:' | invalid empty @dispvm:@tag: token: '@dispvm:@tag:' | invalid redirect token: '@dispvm:@tag:' | invalid intendedtarget token: '@dispvm:@tag:'",
        "@tag:@x            | invalid source token: '@tag:@x' | invalid target token: '@tag:@x' | invalid redirect token: '@tag:@x' | invalid intendedtarget token: '@tag:@x'",
        "@uuid:x            | invalid source token: '@uuid:x' | invalid target token: '@uuid:x' | invalid redirect token: '@uuid:x' | invalid intendedtarget token: '@uuid:x'",
        "@                  | invalid source token: '@' | invalid target token: '@' | invalid redirect token: '@' | invalid intendedtarget token: '@'",
    })
    void classification(String word, String source, String target, String redirect, String intended) {
        List<String> expected = List.of(source, target, redirect, intended);
        TokenContext[] contexts = TokenContext.values();
        for (int i = 0; i < contexts.length; i++) {
            String got;
            try {
                got = QubeToken.parse(word, contexts[i]).kind().name();
            } catch (TokenSyntaxException e) {
                got = e.getMessage();
            }
            assertEquals(expected.get(i), got, word + " as " + contexts[i]);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"SOURCE|invalid empty source token", "REDIRECT|invalid empty redirect token"})
    void emptyTokens(TokenContext context, String message) {
        assertEquals(message, assertThrows(TokenSyntaxException.class, () -> QubeToken.parse("", context)).getMessage());
    }

    @org.junit.jupiter.api.Test
    void pythonRepr() {
        assertEquals("'abc'", PyRepr.str("abc"));
        assertEquals("\"it's\"", PyRepr.str("it's"));
        assertEquals("'a\\'b\"c'", PyRepr.str("a'b\"c"));
        assertEquals("'back\\\\slash'", PyRepr.str("back\\slash"));
        assertEquals("'\u00e9'", PyRepr.str("\u00e9"));
        assertEquals("'\\x01'", PyRepr.str("\u0001"));
        assertEquals("'\\xa0'", PyRepr.str("\u00a0"));
        assertEquals("'\\u200b'", PyRepr.str("\u200b"));
        assertEquals("('!',)", PyRepr.tuple(List.of("!")));
        assertEquals("['a=b', 'c']", PyRepr.list(List.of("a=b", "c")));
    }
}
