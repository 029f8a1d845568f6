package dev.qrexec.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.reply.DaemonReply;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated policies and hostile requests, with a fixed seed: loading either succeeds or fails
 * with a {@code file:line: text} message; evaluation and rendering never throw and never hang.
 */
class FuzzTest {

    private static final SystemInfo[] SYSTEMS = {Fixtures.desktop(), Fixtures.qubesTests()};
    private static final String[] WORDS = {"*", "+", "+x", "+a+b", "test.Svc", "qubes.Filecopy", "work", "vault",
            "dom0", "@adminvm", "@anyvm", "@default", "@dispvm", "@dispvm:default-dvm", "@dispvm:no-such-vm",
            "@dispvm:@tag:web", "@dispvm:@tag:", "@tag:work", "@tag:", "@type:AppVM", "@type:", "@uuid:x",
            "uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a03", "uuid:00000000-0000-0000-0000-000000000000", "allow", "deny",
            "ask", "Allow", "target=vault", "target=@dispvm", "target=@dispvm:web-dvm", "target=@anyvm", "target=",
            "default_target=@dispvm", "default_target=work", "user=root", "user=", "notify=yes", "notify=no",
            "notify=YES", "autostart=no", "autostart=yes", "bogus=1", "=", "x=y=z", "#", "!include", "!include-dir",
            "!compat-4.0", "!include-service", "remote-1", "sys-net", "disp4711", "no-such-vm", "'q\"", "\u00e9",
            "\u0000", "a\\", ",", "$anyvm"};
    private static final String[] SEPARATORS = {" ", "\t", "\u00a0", "\u2003", "\u001f", "  "};
    private static final Pattern LOCATED = Pattern.compile("^[^:\\n]+:(\\d+|None): .+");

    @TempDir
    Path dir;

    @Test
    void mutatedPoliciesAndRequestsNeverEscape() {
        // thousands of denials would each log a line; keep the build output readable
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.qrexec.policy");
        java.util.logging.Level saved = logger.getLevel();
        logger.setLevel(java.util.logging.Level.OFF);
        try {
            fuzz();
        } finally {
            logger.setLevel(saved);
        }
    }

    private void fuzz() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random random = new Random(0x5eed);
            int loaded = 0;
            for (int round = 0; round < 1000; round++) {
                Path d = dir.resolve("p" + round);
                Fixtures.write(d, "include/x", randomPolicy(random, 3));
                Fixtures.write(d, "30-user.policy", randomPolicy(random, 6));
                Policy policy;
                try {
                    policy = PolicyLoader.load(new PolicyLocation(List.of(d), d.resolve("legacy")));
                    loaded++;
                } catch (PolicyLoadException e) {
                    assertNotNull(e.text());
                    assertTrue(e.file() == null || LOCATED.matcher(e.getMessage()).matches(), e.getMessage());
                    policy = Policy.denyAll(e);
                }
                for (int i = 0; i < 6; i++) {
                    SystemInfo system = SYSTEMS[random.nextInt(SYSTEMS.length)];
                    PolicyRequest request = randomRequest(random);
                    Decision decision = policy.evaluate(request, system);
                    assertNotNull(decision);
                    if (decision instanceof Decision.Deny deny) {
                        assertFalse(deny.message().startsWith("internal error"), deny.message());
                    }
                    DaemonReply reply = DaemonReply.render(request, decision, system);
                    assertTrue(reply.isPending() || reply.text().startsWith("result=")
                            || reply.text().startsWith("user="), reply.toString());
                    policy.explain(request, system);
                }
            }
            assertTrue(loaded > 100, "the fuzzer should also produce loadable policies, got " + loaded);
        });
    }

    @Test
    void lineNumbersInErrorsAreOneBased() throws Exception {
        PolicyLoadException e = org.junit.jupiter.api.Assertions.assertThrows(PolicyLoadException.class,
                () -> Fixtures.policy(dir, "\n\n# c\n* * a b allow\n* * a\n"));
        assertEquals(5, e.line());
    }

    private static String randomPolicy(Random random, int lines) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            int shape = random.nextInt(10);
            String[] words;
            if (shape < 8) {
                // a mostly well-formed rule with one mutated column
                String action = pick(random, "allow", "deny", "ask");
                String target = pick(random, "vault", "@anyvm", "@default", "@dispvm", "@dispvm:default-dvm", "*",
                        "@adminvm");
                String param = switch (action) {
                    case "deny" -> pick(random, "", "notify=no");
                    case "ask" -> pick(random, "", "target=vault", "default_target=@dispvm", "autostart=no", "user=root");
                    default -> target.equals("@default") ? "target=vault"
                            : pick(random, "", "target=vault", "target=@dispvm", "autostart=no", "notify=yes");
                };
                words = new String[] {pick(random, "*", "test.Svc", "qubes.Filecopy"), "*",
                        pick(random, "work", "@anyvm", "*", "@tag:work", "@type:AppVM", "no-such-vm"), target, action,
                        param};
                if (random.nextInt(6) == 0) {
                    words[random.nextInt(words.length)] = WORDS[random.nextInt(WORDS.length)];
                }
            } else if (shape < 9 && random.nextBoolean()) {
                words = new String[] {pick(random, "!include", "!include-dir"),
                        pick(random, "include/x", "30-user.policy", "nope", "/", "include", "a\u0000b", "..", "")};
            } else if (shape < 9) {
                words = new String[] {"!include-service", pick(random, "test.Svc", "*"), pick(random, "*", "+x"),
                        "include/x"};
            } else {
                words = new String[random.nextInt(8)];
                for (int w = 0; w < words.length; w++) {
                    words[w] = WORDS[random.nextInt(WORDS.length)];
                }
            }
            for (int w = 0; w < words.length; w++) {
                if (w > 0) {
                    text.append(SEPARATORS[random.nextInt(SEPARATORS.length)]);
                }
                text.append(words[w]);
            }
            text.append(random.nextInt(20) == 0 ? "\r\n" : "\n");
        }
        return text.toString();
    }

    private static PolicyRequest randomRequest(Random random) {
        String target = pick(random, "", "vault", "work", "dom0", "@adminvm", "@default", "@dispvm",
                "@dispvm:default-dvm", "@dispvm:no-such-vm", "@dispvm:work", "@anyvm", "@tag:work", "no-such-vm",
                "uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a03", "remote-1", "test-vm1", "test-remotevm1", "@", "*");
        String source = pick(random, "work", "personal", "vault", "dom0", "no-such-vm", "test-vm1", "test-no-dvm",
                "disp4711", "sys-net", "test-relayvm1", "uuid:1b0c3d61-5d0e-4a35-9a0e-0c4e3f6f0a01", "");
        PolicyRequest request = PolicyRequest.of(pick(random, "test.Svc", "qubes.Filecopy", "x"),
                pick(random, "+", "+x", "+a+b"), source, target);
        if (random.nextInt(8) == 0) {
            request = request.withRequestedSource(pick(random, "remote-1", "test-remotevm1", "nope", "work"));
        }
        return request.withMode(EvaluationMode.values()[random.nextInt(4)]);
    }

    private static String pick(Random random, String... options) {
        return options[random.nextInt(options.length)];
    }
}
