package dev.qrexec.broker.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AgentBundleTest {

    @Test
    void classPathIsCopiedWorldReadableAndTheInitRunsTheAgentFromOpt(@TempDir Path tmp) throws Exception {
        Path classes = Files.createDirectories(tmp.resolve("classes/dev/x"));
        Files.writeString(classes.resolve("A.class"), "cafebabe");
        Path jar = Files.writeString(tmp.resolve("lib-1.0.jar"), "PK");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-------"));
        Path out = tmp.resolve("bundle");
        AgentBundle b = AgentBundle.create(out, tmp.resolve("classes") + ":" + jar + ":" + tmp.resolve("missing.jar"));

        assertEquals("cafebabe", Files.readString(out.resolve("classes0/dev/x/A.class")));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("lib/lib-1.0.jar"))));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("classes0/dev"))));

        List<String> init = b.init("work");
        assertTrue(init.get(0).startsWith("/usr/"), init.get(0));
        int cp = init.indexOf("-cp");
        assertEquals("/opt/classes0:/opt/lib/*", init.get(cp + 1));
        assertTrue(init.contains("dev.qrexec.broker.agent.cli.AgentCli"));
        assertTrue(init.contains("--name=work"));
        assertTrue(init.contains("--agent-socket=/run/vchan/agent.sock"));
        assertTrue(init.stream().noneMatch(a -> a.startsWith("--warm-up")), "only a preload warms up: " + init);
        List<String> preload = b.init("disp12", true);
        assertTrue(preload.contains("--warm-up=" + AgentBundle.PRELOAD_WARM_UP_CALLS), preload.toString());
        assertTrue(preload.containsAll(AgentBundle.JVM_FLAGS), preload.toString());
    }

    @Test
    void builderOptionsAreValidatedWithTheirName() {
        DemoSystem.Builder b = DemoSystem.builder(Path.of("/tmp/qd"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.backend("xen")).getMessage()
                .contains("auto, sandbox or sim"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.preloadMax(17)).getMessage()
                .contains("preloadMax"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.extraPolicy("../x.policy", ""))
                .getMessage().contains("policy file name"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.serviceScript("a/b", ""))
                .getMessage().contains("invalid service name"));
    }
}
