package dev.qrexec.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExamplePoliciesTest {

    static final Path MODULE = Path.of(System.getProperty("qrexec.root", ".."), "policies-examples");

    @Test
    void indexListsExactlyTheFilesOfPolicyDir() throws IOException {
        Path dir = MODULE.resolve("policy.d");
        List<String> onDisk;
        try (Stream<Path> files = Files.walk(dir)) {
            onDisk = files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
        assertEquals(onDisk, ExamplePolicies.policyFiles(),
                "src/main/resources/dev/qrexec/examples/policy.d.index is out of date");
    }

    @Test
    void packagedCopiesMatchTheSources() throws IOException {
        for (String f : ExamplePolicies.policyFiles()) {
            assertEquals(Files.readString(MODULE.resolve("policy.d").resolve(f)), ExamplePolicies.policyFile(f), f);
        }
        assertEquals(Files.readString(MODULE.resolve("system-info.json")), ExamplePolicies.systemInfoJson());
    }

    @Test
    void installsThePolicyDirAndSystemInfo(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("etc/qubes/policy.d");
        ExamplePolicies.installPolicyDir(dir);
        ExamplePolicies.installSystemInfo(tmp.resolve("system-info.json"));
        for (String f : ExamplePolicies.policyFiles()) {
            assertEquals(ExamplePolicies.policyFile(f), Files.readString(dir.resolve(f)));
        }
        try (Stream<Path> files = Files.walk(tmp)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file is left");
        }
        assertTrue(Files.readString(tmp.resolve("system-info.json")).contains("\"default-dvm\""));
    }

    @Test
    void unknownFileIsRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExamplePolicies.policyFile("../etc/passwd"));
        assertTrue(e.getMessage().startsWith("no example policy file ../etc/passwd; known: [20-vault.policy"), e.getMessage());
    }
}
