package dev.qrexec.policy.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.qrexec.policy.Decision;
import dev.qrexec.policy.Fixtures;
import dev.qrexec.policy.Policy;
import dev.qrexec.policy.PolicyRequest;
import dev.qrexec.policy.Rule;
import dev.qrexec.policy.system.SystemInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec section 1: files, order, directives, old syntax, compat, failures. */
class PolicyLoaderTest {

    @TempDir
    Path tmp;

    private Policy load(Path... dirs) throws PolicyLoadException {
        return PolicyLoader.load(new PolicyLocation(List.of(dirs), tmp.resolve("legacy")));
    }

    private static List<String> where(Policy p) {
        return p.rules().stream().map(r -> r.location().toString()).toList();
    }

    @Test
    void filesAreSelectedByNameAndReadInNameOrder() throws Exception {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "50-b.policy", "* * a b deny\n");
        Fixtures.write(d, "10-a.policy", "# comment\n\n* * a b allow\n");
        Fixtures.write(d, "README", "garbage\n");
        Fixtures.write(d, "x.policy.rpmnew", "garbage\n");
        Fixtures.write(d, ".hidden.policy", "garbage\n");
        Fixtures.write(d, "x.policyx", "garbage\n");
        Files.createDirectories(d.resolve("include.policy"));
        assertEquals(List.of("10-a.policy:3", "50-b.policy:1"), where(load(d)));
    }

    @Test
    void earlierDirectoryShadowsSameNameAndNamesSortAcrossDirectories() throws Exception {
        Path run = tmp.resolve("run");
        Path etc = tmp.resolve("etc");
        Fixtures.write(run, "30-user.policy", "* * a b deny\n");
        Fixtures.write(etc, "30-user.policy", "* * a b allow\n* * a c allow\n");
        Fixtures.write(etc, "10-first.policy", "* * x y allow\n");
        Policy p = load(run, etc);
        assertEquals(List.of("10-first.policy:1", "30-user.policy:1"), where(p));
        assertEquals("deny", p.rules().get(1).action().keyword());
    }

    @Test
    void oneUpperCaseFileNameFailsTheWholePolicy() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "30-user.policy", "* * a b allow\n");
        Fixtures.write(d, "30-User.policy", "* * a b allow\n");
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> load(d));
        assertTrue(e.getMessage().startsWith("invalid filename: "), e.getMessage());
        assertTrue(e.getMessage().endsWith("30-User.policy"), e.getMessage());
    }

    @Test
    void includesSpliceInPlaceAndResolveAgainstThePolicyDirectory() throws Exception {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "30-user.policy", "* * a b allow\n!include include/one\n* * a c allow\n");
        // relative to the policy directory, not to include/
        Fixtures.write(d, "include/one", "!include include/two\n* * one x allow\n");
        Fixtures.write(d, "include/two", "\n* * two x allow\n");
        assertEquals(List.of("30-user.policy:1", "include/two:2", "include/one:2", "30-user.policy:3"), where(load(d)));
    }

    @Test
    void includeDirReadsEligibleFilesInOrder() throws Exception {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "30-user.policy", "!include-dir include/d\n");
        Fixtures.write(d, "include/d/b.policy", "* * b x allow\n");
        Fixtures.write(d, "include/d/a.policy", "* * a x allow\n");
        Fixtures.write(d, "include/d/README", "not policy\n");
        assertEquals(List.of("include/d/a.policy:1", "include/d/b.policy:1"), where(load(d)));
    }

    @Test
    void includeServiceUsesTheOldSyntax() throws Exception {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "30-user.policy", "!include-service qubes.Filecopy +x include/old\n");
        Fixtures.write(d, "include/old", "$anyvm $dispvm allow,target=$dispvm:default-dvm,user=root\n"
                + "work,vault,deny\n$include:include/older\n");
        Fixtures.write(d, "include/older", "$tag:t $default ask,default_target=vault\n");
        Policy p = load(d);
        assertEquals(3, p.rules().size());
        Rule first = p.rules().get(0);
        assertEquals("qubes.Filecopy", first.service());
        assertEquals("+x", first.argument());
        assertEquals("@dispvm", first.target().text());
        assertEquals("@dispvm:default-dvm", first.params().target().text());
        assertEquals("root", first.params().user());
        assertEquals("include/older:1", p.rules().get(2).location().toString());
    }

    @Test
    void directiveErrorsUseTheReferenceTexts() {
        assertLoadError("!include\n", "f.policy:1: invalid number of params");
        assertLoadError("!include-service a b\n", "f.policy:1: invalid number of params");
        assertLoadError("!compat-4.0 x\n", "f.policy:1: invalid number of params");
        assertLoadError("\n!includes x\n", "f.policy:2: invalid directive");
        assertLoadError("!include-service * +a include/x\n", "f.policy:1: only * argument allowed for * service");
        PolicyLoadException e = assertThrows(PolicyLoadException.class,
                () -> Fixtures.policy(tmp.resolve("m"), "!include include/missing\n"));
        assertTrue(e.getMessage().startsWith("f.policy:1: not a file: "), e.getMessage());
        assertLoadError("!include a\u0000b\n", "f.policy:1: invalid path: 'a\\x00b'");
        e = assertThrows(PolicyLoadException.class, () -> Fixtures.policy(tmp.resolve("n"), "!include-dir nodir\n"));
        assertTrue(e.getMessage().startsWith("f.policy:1: not a directory: "), e.getMessage());
    }

    @Test
    void oldSyntaxAcceptsOnlyInclude() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "f.policy", "!include-service a +b include/old\n");
        Fixtures.write(d, "include/old", "!include-dir x\n");
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> load(d));
        assertEquals("include/old:1: invalid directive", e.getMessage());
    }

    @Test
    void includeCyclesAreLoadErrorsNotStackOverflows() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "f.policy", "* * a b allow\n!include include/a\n");
        Fixtures.write(d, "include/a", "!include include/b\n");
        Fixtures.write(d, "include/b", "\n!include include/a\n");
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> load(d));
        assertEquals("include/b:2: include cycle: include/a -> include/b -> include/a", e.getMessage());
        assertEquals("include/b", e.file());
        assertEquals(2, e.line());
    }

    @Test
    void selfIncludeAndIncludeDirOfThePolicyDirectoryAreCycles() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "f.policy", "!include f.policy\n");
        assertEquals("f.policy:1: include cycle: f.policy -> f.policy",
                assertThrows(PolicyLoadException.class, () -> load(d)).getMessage());
        Path e = tmp.resolve("e");
        Fixtures.write(e, "f.policy", "!include-dir .\n");
        assertTrue(assertThrows(PolicyLoadException.class, () -> load(e)).getMessage().contains("include cycle"));
    }

    @Test
    void compat40SplicesLegacyFilesWithImplicitDenies() throws Exception {
        Path d = tmp.resolve("d");
        Path legacy = tmp.resolve("legacy");
        Fixtures.write(d, "35-compat.policy", "!compat-4.0\n");
        Fixtures.write(d, "90-default.policy", "* * @anyvm @anyvm deny\n");
        Fixtures.write(legacy, "a.Svc", "$anyvm $anyvm ask\n");
        Fixtures.write(legacy, "a.Svc+", "$anyvm vault allow\n");
        Fixtures.write(legacy, "a.Svc+x", "work vault allow\n$include:include/inc\n");
        Fixtures.write(legacy, "include/inc", "work work2 deny\n");
        Fixtures.write(legacy, "b.Svc", "work vault allow\n");
        Fixtures.write(legacy, "b.Svc.rpmnew", "garbage\n");
        Fixtures.write(legacy, ".b.Svc", "garbage\n");
        Fixtures.write(legacy, "bad name", "garbage\n");
        Policy p = PolicyLoader.load(new PolicyLocation(List.of(d), legacy));
        List<String> got = p.rules().stream().map(r -> r.service() + " " + r.argument() + " " + r.source() + " "
                + r.target() + " " + r.action().keyword() + (r.location().synthetic() ? " [implicit]" : "")).toList();
        assertEquals(List.of(
                "a.Svc + @anyvm vault allow",
                "a.Svc + @anyvm @anyvm deny [implicit]",
                "a.Svc + @anyvm @adminvm deny [implicit]",
                "a.Svc +x work vault allow",
                "a.Svc +x work work2 deny",
                "a.Svc +x @anyvm @anyvm deny [implicit]",
                "a.Svc +x @anyvm @adminvm deny [implicit]",
                "a.Svc null @anyvm @anyvm ask",
                "b.Svc null work vault allow",
                "null null @anyvm @anyvm deny"), got);
        SystemInfo system = Fixtures.desktop();
        Decision d1 = p.evaluate(PolicyRequest.of("a.Svc", "+y", "work", "vault"), system);
        assertTrue(d1 instanceof Decision.Ask, d1.toString()); // no implicit deny after the '*' file
        Decision d2 = p.evaluate(PolicyRequest.of("a.Svc", "+x", "personal", "vault"), system);
        assertTrue(d2 instanceof Decision.Deny deny && deny.message().endsWith("a.Svc+x:None"), d2.toString());
    }

    @Test
    void compat40WithoutLegacyDirectoryFailsToLoad() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "35-compat.policy", "!compat-4.0\n");
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> load(d));
        assertTrue(e.getMessage().startsWith("failed to load "), e.getMessage());
    }

    @Test
    void invalidUtf8IsALoadError() throws Exception {
        Path d = tmp.resolve("d");
        Files.createDirectories(d);
        Files.write(d.resolve("f.policy"), new byte[] {'*', ' ', (byte) 0xff, '\n'});
        assertEquals("f.policy:None: file is not valid UTF-8",
                assertThrows(PolicyLoadException.class, () -> load(d)).getMessage());
    }

    @Test
    void loadOrDenyAllAnswersEveryRequestWithTheLoadError() {
        Path d = tmp.resolve("d");
        Fixtures.write(d, "f.policy", "* * @anyvm @anyvm allow\n* * @anyvm\n");
        Policy p = PolicyLoader.loadOrDenyAll(new PolicyLocation(List.of(d), tmp.resolve("legacy")));
        Decision decision = p.evaluate(PolicyRequest.of("a", "+", "work", "vault"), Fixtures.desktop());
        assertEquals(new Decision.Deny("f.policy:2: wrong number of fields", false, false, null, null), decision);
        assertTrue(p.loadError().isPresent());
    }

    private void assertLoadError(String text, String message) {
        Path d = tmp.resolve("case" + Math.abs(text.hashCode()));
        PolicyLoadException e = assertThrows(PolicyLoadException.class, () -> Fixtures.policy(d, text));
        assertEquals(message, e.getMessage());
    }
}
