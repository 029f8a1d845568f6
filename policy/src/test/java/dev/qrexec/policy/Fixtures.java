package dev.qrexec.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qrexec.policy.load.PolicyLoadException;
import dev.qrexec.policy.load.PolicyLoader;
import dev.qrexec.policy.load.PolicyLocation;
import dev.qrexec.policy.system.SystemInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Test helpers: the shared fixtures and one-file policies. */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path sharedDir() {
        return Path.of(System.getProperty("qrexec.root", "..")).resolve("../shared").normalize();
    }

    public static JsonNode fixtureJson(String name) {
        try {
            return new ObjectMapper().readTree(sharedDir().resolve("conformance/fixtures/" + name + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reference test suite's system ({@code qubes-tests.json}). */
    public static SystemInfo qubesTests() {
        return SystemInfo.fromJson(fixtureJson("qubes-tests"));
    }

    /** {@code qubes-tests} without the RemoteVM and relay qubes: spec 8.2's "SI-min". */
    public static SystemInfo siMin() {
        JsonNode root = fixtureJson("qubes-tests");
        ObjectNode domains = (ObjectNode) root.get("domains");
        domains.remove(List.of("test-relayvm1", "test-remotevm1", "test2-relayvm1", "test2-relayvm2",
                "test2-remotevm1", "test2-remotevm2", "test2-vm1"));
        return SystemInfo.fromJson(root);
    }

    /** The realistic desktop system ({@code desktop.json}). */
    public static SystemInfo desktop() {
        return SystemInfo.fromJson(fixtureJson("desktop"));
    }

    /** Writes {@code text} as {@code dir/name} (creating parents). */
    public static Path write(Path dir, String name, String text) {
        try {
            Path p = dir.resolve(name);
            Files.createDirectories(p.getParent());
            Files.writeString(p, text);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads a directory holding one file {@code f.policy} with this text. */
    public static Policy policy(Path dir, String text) throws PolicyLoadException {
        write(dir, "f.policy", text);
        return PolicyLoader.load(new PolicyLocation(List.of(dir), dir.resolve("no-legacy")));
    }
}
