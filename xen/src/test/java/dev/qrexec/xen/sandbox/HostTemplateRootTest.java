package dev.qrexec.xen.sandbox;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The template root built from a fake host: shares system directories, copies no secret. */
class HostTemplateRootTest {

    @TempDir
    Path dir;

    private Path fakeHost() throws IOException {
        Path host = dir.resolve("host");
        Files.createDirectories(host.resolve("usr/bin"));
        Files.createSymbolicLink(host.resolve("bin"), Path.of("usr/bin"));
        Files.createDirectories(host.resolve("etc/ld.so.conf.d"));
        Files.writeString(host.resolve("etc/ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n");
        Files.writeString(host.resolve("etc/ld.so.conf.d/x86_64.conf"), "/usr/lib/x86_64-linux-gnu\n");
        Files.createDirectories(host.resolve("etc/java-17-openjdk/security"));
        Files.writeString(host.resolve("etc/java-17-openjdk/security/java.security"), "x=y\n");
        Files.writeString(host.resolve("etc/shadow"), "root:$6$secret\n");
        Files.writeString(host.resolve("etc/passwd"), "root:x:0:0::/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
        Files.createDirectories(host.resolve("etc/ssh"));
        Files.writeString(host.resolve("etc/ssh/ssh_host_ed25519_key"), "PRIVATE\n");
        return host;
    }

    @Test
    void sharesSystemDirectoriesAndCopiesOnlyHarmlessEtc() throws IOException {
        Path template = HostTemplateRoot.builder(dir.resolve("t")).hostRoot(fakeHost()).build();
        assertEquals(Path.of("/usr"), Files.readSymbolicLink(template.resolve("usr")), "real host dir: shared by absolute link");
        assertEquals(Path.of("usr/bin"), Files.readSymbolicLink(template.resolve("bin")), "host symlink kept as is");
        assertFalse(Files.exists(template.resolve("lib64"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "absent on host");
        assertTrue(Files.exists(template.resolve("etc/ld.so.conf.d/x86_64.conf")));
        assertTrue(Files.exists(template.resolve("etc/java-17-openjdk/security/java.security")));
        assertFalse(Files.exists(template.resolve("etc/shadow")));
        assertFalse(Files.exists(template.resolve("etc/ssh")));
        String passwd = Files.readString(template.resolve("etc/passwd"));
        assertTrue(passwd.contains("user:x:1000:1000:user:/home/user:/bin/sh"), passwd);
        assertFalse(passwd.contains("alice"), "synthetic, not the host's");
    }

    @Test
    void extraReadOnlyDirectoriesAreValidated() throws IOException {
        Path agent = Files.createDirectories(dir.resolve("agent"));
        Path template = HostTemplateRoot.builder(dir.resolve("t")).hostRoot(fakeHost()).readOnly("opt", agent).build();
        assertEquals(agent, Files.readSymbolicLink(template.resolve("opt")));
        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                () -> HostTemplateRoot.builder(dir.resolve("t2")).readOnly("home", agent));
        assertTrue(reserved.getMessage().contains("'/home' is managed by the sandbox backend"), reserved::getMessage);
        assertThrows(IllegalArgumentException.class, () -> HostTemplateRoot.builder(dir.resolve("t2")).readOnly("a/b", agent));
        assertThrows(IllegalArgumentException.class,
                () -> HostTemplateRoot.builder(dir.resolve("t2")).readOnly("opt", Path.of("relative")));
    }

    @Test
    void refusesToBuildIntoANonEmptyDirectory() throws IOException {
        Files.createDirectories(dir.resolve("t"));
        Files.writeString(dir.resolve("t/file"), "x");
        IOException error = assertThrows(IOException.class, () -> HostTemplateRoot.builder(dir.resolve("t")).build());
        assertTrue(error.getMessage().contains("exists and is not empty"), error::getMessage);
    }
}
