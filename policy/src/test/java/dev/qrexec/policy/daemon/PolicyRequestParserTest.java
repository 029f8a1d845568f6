package dev.qrexec.policy.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyRequestParserTest {

    private static SocketRequest parse(String... lines) throws MalformedRequestException {
        PolicyRequestParser parser = new PolicyRequestParser();
        for (String line : lines) {
            parser.line(line);
        }
        return parser.finish();
    }

    @Test
    void parsesTheThreeRequiredKeysWithDefaults() throws Exception {
        SocketRequest r = parse("source=work", "intended_target=", "service_and_arg=qubes.Filecopy+x");
        assertEquals(new SocketRequest("work", "", "qubes.Filecopy+x", "", false, false), r);
        assertEquals("qubes.Filecopy", r.service());
        assertEquals("+x", r.argument());
    }

    @Test
    void parsesAllSixKeysInAnyOrder() throws Exception {
        SocketRequest r = parse("just_evaluate=yes", "assume_yes_for_ask=no", "requested_source=remote-1",
                "service_and_arg=a+b+c", "intended_target=@dispvm", "source=sys-net");
        assertEquals(new SocketRequest("sys-net", "@dispvm", "a+b+c", "remote-1", false, true), r);
        assertEquals("a", r.service());
        assertEquals("+b+c", r.argument());
    }

    @Test
    void valueMayContainEqualsSigns() throws Exception {
        assertEquals("a=b", parse("source=a=b", "intended_target=x", "service_and_arg=s").source());
    }

    @Test
    void serviceWithoutPlusHasTheEmptyArgument() throws Exception {
        assertEquals("+", parse("source=a", "intended_target=x", "service_and_arg=svc").argument());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "domain_id=3                 | unknown argument 'domain_id'",
        "process_ident=42            | unknown argument 'process_ident'",
        "=x                          | unknown argument ''",
        "Source=work                 | unknown argument 'Source'",
        "source                      | line without '=': 'source'",
        "source=work                 | duplicate argument 'source'",
        "just_evaluate=true          | invalid bool value 'true' for argument just_evaluate",
        "assume_yes_for_ask=YES      | invalid bool value 'YES' for argument assume_yes_for_ask",
        "assume_yes_for_ask=         | invalid bool value '' for argument assume_yes_for_ask",
    })
    void rejectsBadLine(String bad, String reason) {
        PolicyRequestParser parser = new PolicyRequestParser();
        MalformedRequestException e = assertThrows(MalformedRequestException.class, () -> {
            parser.line("source=work");
            parser.line(bad);
        });
        assertEquals(reason, e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"source", "intended_target", "service_and_arg"})
    void rejectsMissingRequiredKey(String missing) {
        PolicyRequestParser parser = new PolicyRequestParser();
        MalformedRequestException e = assertThrows(MalformedRequestException.class, () -> {
            for (String key : new String[] {"source", "intended_target", "service_and_arg"}) {
                if (!key.equals(missing)) {
                    parser.line(key + "=x");
                }
            }
            parser.finish();
        });
        assertEquals("required argument missing: " + missing, e.getMessage());
    }

    @Test
    void quotesControlBytesAndTruncates() {
        assertEquals("'a\\x0db'", PolicyRequestParser.quote("a\rb"));
        assertEquals("'" + "x".repeat(64) + "...'", PolicyRequestParser.quote("x".repeat(100)));
    }

    @Test
    void toStringIsSafeForLogs() {
        assertEquals("SocketRequest[source='a\\x0dforged', intended_target='', service_and_arg='s', just_evaluate]",
                new SocketRequest("a\rforged", "", "s", "", false, true).toString());
    }

    @Test
    void wireFormRoundTrips() throws Exception {
        SocketRequest r = new SocketRequest("work", "vault", "qubes.Filecopy+x", "remote-1", true, true);
        String[] lines = r.toWire().split("\n");
        assertEquals(r, parse(lines));
        assertEquals("source=work\nintended_target=vault\nservice_and_arg=s\n\n",
                new SocketRequest("work", "vault", "s", "", false, false).toWire());
    }
}
