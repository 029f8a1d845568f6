package dev.qrexec.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The 75 engine-level cases of spec 8.3, run against the SI-min system, one test each. */
class SpecCasesTest {

    private static final SystemInfo SYSTEM = Fixtures.siMin();
    private static final Pattern ALLOW = Pattern.compile("ALLOW target=(\\S+)( autostart=no)? \\(rule (\\d+)\\)");
    private static final Pattern LOOPBACK = Pattern.compile("ALLOW target=(\\S+) at engine level; daemon output.*");
    private static final Pattern ASK = Pattern.compile("ASK targets=\\[(.*)] default=(\\S+) \\(rule (\\d+)\\)");
    private static final Pattern DENY = Pattern.compile("DENY( notify=no)? \\((.*)\\)");
    private static final Pattern REQUEST_ERROR = Pattern.compile("DENY \\[request token error: (.*)] \\(no notification\\)");
    private static final Pattern SYNTAX = Pattern.compile("SYNTAX ERROR \\((.*)\\)");

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                SpecCasesTest.class.getResourceAsStream("spec-8.3-cases.tsv"), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.startsWith("#")) {
                    String[] f = line.split("\t", -1);
                    out.add(Arguments.of(Integer.parseInt(f[0]), f[1].replace(" ⏎ ", "\n") + "\n", f[2], f[3], f[4], f[5]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "case {0}: {1} {2} -> ''{3}'' => {5}")
    @MethodSource("cases")
    void referenceResult(int number, String policyText, String source, String target, String serviceAndArg,
                         String expected, @TempDir Path dir) throws Exception {
        String fixed = expected.replace("f:", "f.policy:");
        Matcher syntax = SYNTAX.matcher(fixed);
        if (syntax.matches()) {
            PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> Fixtures.policy(dir, policyText));
            assertEquals(syntax.group(1), e.text());
            assertEquals("f.policy:1: " + syntax.group(1), e.getMessage());
            return;
        }
        Policy policy = Fixtures.policy(dir, policyText);
        PolicyRequest request = PolicyRequest.ofServiceAndArgument(serviceAndArg, source, target);
        Decision decision = policy.evaluate(request, SYSTEM);
        Matcher m;
        if ((m = ALLOW.matcher(fixed)).matches()) {
            Decision.Allow allow = assertInstanceOf(Decision.Allow.class, decision);
            assertEquals(m.group(1), allow.target());
            assertEquals(m.group(2) == null, allow.autostart());
            assertEquals(Integer.parseInt(m.group(3)), allow.decidingRule().location().line());
        } else if ((m = LOOPBACK.matcher(fixed)).matches()) {
            Decision.Allow allow = assertInstanceOf(Decision.Allow.class, decision);
            assertEquals(m.group(1), allow.target());
            assertEquals(DaemonReply.DENY, DaemonReply.render(request, decision, SYSTEM).text());
        } else if ((m = ASK.matcher(fixed)).matches()) {
            Decision.Ask ask = assertInstanceOf(Decision.Ask.class, decision);
            assertEquals(Arrays.asList(m.group(1).split(", ")), ask.targets());
            assertEquals("None".equals(m.group(2)) ? null : m.group(2), ask.defaultTarget());
            assertEquals(Integer.parseInt(m.group(3)), ask.decidingRule().location().line());
        } else if ((m = REQUEST_ERROR.matcher(fixed)).matches()) {
            Decision.Deny deny = assertInstanceOf(Decision.Deny.class, decision);
            assertEquals("<unknown>:0: " + m.group(1), deny.message());
            assertEquals(false, deny.notifyUser());
            assertEquals(true, deny.requestError());
        } else if ((m = DENY.matcher(fixed)).matches()) {
            Decision.Deny deny = assertInstanceOf(Decision.Deny.class, decision);
            assertEquals(m.group(2), deny.message());
            assertEquals(m.group(1) == null, deny.notifyUser());
            assertEquals(false, deny.isReferenceCrash());
        } else {
            throw new AssertionError("case " + number + ": unparsed expectation " + expected);
        }
    }
}
