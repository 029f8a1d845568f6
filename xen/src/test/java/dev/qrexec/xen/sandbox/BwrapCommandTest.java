package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.QubeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line a spec becomes (no sandbox is run here). */
class BwrapCommandTest {

    @TempDir
    Path dir;

    @Test
    void templateEntriesBecomeReadOnlyBindsAndSymlinksAndReservedNamesAreSkipped() throws IOException {
        Path template = Files.createDirectories(dir.resolve("t"));
        Files.createDirectories(template.resolve("etc"));
        Files.createSymbolicLink(template.resolve("bin"), Path.of("usr/bin"));
        Files.createSymbolicLink(template.resolve("usr"), Path.of("/usr"));
        Files.createSymbolicLink(template.resolve("lib32"), Path.of("/no/such/host/dir"));
        Files.createDirectories(template.resolve("home"));
        Files.createDirectories(template.resolve("proc"));
        Files.createDirectories(template.resolve(".hidden"));
        assertEquals(List.of("--symlink", "usr/bin", "/bin",
                        "--ro-bind", template.resolve("etc").toString(), "/etc",
                        "--ro-bind", Path.of("/usr").toRealPath().toString(), "/usr"),
                BwrapCommand.templateMounts(template));
    }

    @Test
    void launcherJoinsCgroupsDropsPrivilegesThenSandboxes() throws IOException {
        Path template = Files.createDirectories(dir.resolve("t"));
        QubeSpec spec = QubeSpec.builder("work", 5).templateRoot(template).volatileSizeMiB(32)
                .privateStorage(dir.resolve("p")).channelDir(dir.resolve("c"))
                .environment(Map.of("SECRET_TOKEN", "hunter2"))
                .init(List.of("/bin/sh", "-c", "echo hi")).build();
        BwrapCommand.Launch launch = BwrapCommand.launcher(Path.of("/usr/bin/setpriv"), Path.of("/usr/bin/bwrap"),
                List.of(Path.of("/cg/freezer/procs"), Path.of("/cg/memory/procs")), 200_005, spec, dir.resolve("p"));
        assertEquals(List.of("/bin/sh", "-c", BwrapCommand.JOIN_CGROUPS_SCRIPT, "qrexec-sandbox-work",
                "/cg/freezer/procs", "/cg/memory/procs", "--", "/usr/bin/setpriv", "--reuid=200005", "--regid=200005",
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "/usr/bin/bwrap",
                "--args", "0", "--", "/bin/sh", "-c", "echo hi"), launch.command());
        List<String> cmd = launch.bwrapOptions();
        assertEquals(List.of("--unshare-all", "--unshare-user"), cmd.subList(0, 2));
        assertFalse(String.join(" ", launch.command()).contains(dir.toString()), "no host path of the qube in ps");
        String nulSeparated = new String(launch.optionsBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(String.join("\0", cmd) + "\0", nulSeparated);
        assertTrue(Collections.indexOfSubList(cmd, List.of("--size", Long.toString(32L << 20), "--tmpfs", "/tmp")) > 0);
        assertTrue(Collections.indexOfSubList(cmd, List.of("--bind", dir.resolve("p").toString(), "/rw")) > 0);
        assertTrue(Collections.indexOfSubList(cmd, List.of("--bind", dir.resolve("p/home/user").toString(), "/home/user")) > 0);
        assertTrue(Collections.indexOfSubList(cmd, List.of("--bind", dir.resolve("c").toString(), "/run/vchan")) > 0);
        assertTrue(Collections.indexOfSubList(cmd, List.of("--remount-ro", "/")) > 0);
        assertFalse(String.join(" ", cmd).contains("hunter2"), "the environment never shows in ps");
        assertFalse(cmd.contains("--die-with-parent"), "qubes outlive a daemon restart");
    }

    @Test
    void guestEnvironmentPointsVchanAtTheChannelMount() {
        QubeSpec spec = QubeSpec.builder("work", 5).channelDir(dir).environment(Map.of("LANG", "de_DE.UTF-8"))
                .init(List.of("x")).build();
        Map<String, String> env = SandboxLauncher.guestEnvironment(spec);
        assertEquals("5", env.get("VCHAN_DOMAIN"));
        assertEquals("/run/vchan", env.get("VCHAN_SOCKET_DIR"));
        assertEquals("/home/user", env.get("HOME"));
        assertEquals("de_DE.UTF-8", env.get("LANG"), "the spec's environment wins");
    }
}
