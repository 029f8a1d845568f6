package dev.qrexec.broker.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;

/**
 * Where the small system keeps its files, all under one state directory. Paths are short on purpose:
 * a qube's channel directory holds Unix sockets, whose paths must stay under 106 bytes.
 *
 * <pre>
 * STATE/hv        hypervisor state (sandbox: spec.json, run.json, console.log per qube)
 * STATE/store     the qube registry (dispvm store)
 * STATE/policy.d  the installed policy
 * STATE/run       policy.sock, qrexec.&lt;domid&gt;, qrexec.&lt;name&gt; (dom0 local sockets)
 * STATE/ch/Q      channel directory of qube Q (its vchan sockets and agent.sock)
 * STATE/p/Q       private storage of qube Q
 * STATE/root      the template root (sandbox)
 * STATE/agent     the agent's class path, shown read-only in every qube (sandbox)
 * </pre>
 */
public record SystemLayout(Path stateDir) {

    /** Longest socket name the agent creates in a channel directory. */
    private static final String LONGEST_SOCKET = "/vchan.4294967295.4294967295.65535.sock";
    /** Longest qube name the registry hands out for disposables (e.g. {@code disp12345}) and then some. */
    private static final String LONGEST_QUBE = "disp1234567";

    public SystemLayout {
        Objects.requireNonNull(stateDir, "stateDir");
        stateDir = stateDir.toAbsolutePath().normalize();
        int longest = stateDir.resolve("ch").resolve(LONGEST_QUBE).toString().length() + LONGEST_SOCKET.length();
        if (longest > 106) {
            throw new IllegalArgumentException("state directory " + stateDir + " is too long: its sockets would need "
                    + longest + " bytes, Unix socket paths hold at most 106; use a shorter --state-dir such as /tmp/qd");
        }
    }

    public Path hypervisorState() {
        return stateDir.resolve("hv");
    }

    public Path store() {
        return stateDir.resolve("store");
    }

    public Path policyDir() {
        return stateDir.resolve("policy.d");
    }

    public Path socketDir() {
        return stateDir.resolve("run");
    }

    public Path channelDir(String qube) {
        return stateDir.resolve("ch").resolve(qube);
    }

    public Path privateDir(String qube) {
        return stateDir.resolve("p").resolve(qube);
    }

    public Path templateRoot() {
        return stateDir.resolve("root");
    }

    public Path agentDir() {
        return stateDir.resolve("agent");
    }

    /**
     * Creates the directories the qubes must reach. A sandboxed qube runs as its own uid, so every
     * directory on the way to its storage and sockets must be searchable by others ({@code o+x}).
     */
    public void create() throws IOException {
        for (Path p : new Path[] {stateDir, stateDir.resolve("ch"), stateDir.resolve("p"), socketDir(), policyDir()}) {
            Files.createDirectories(p);
        }
        for (Path p : new Path[] {stateDir, stateDir.resolve("ch"), stateDir.resolve("p")}) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx--x--x"));
        }
        for (Path p = stateDir.getParent(); p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IOException("qubes cannot reach " + stateDir + ": " + p + " is not searchable by others"
                        + " (chmod o+x " + p + ", or choose another --state-dir)");
            }
        }
    }
}
