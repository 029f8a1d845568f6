package dev.qrexec.broker.demo;

import java.io.File;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Java agent as a sandboxed qube runs it: this JVM's class path copied into one directory that
 * every qube sees read-only at {@value #MOUNT_NAME} (the host's {@code ~/.m2} and build directories
 * are private to the host), and the command line of the agent as the qube's init.
 */
public final class AgentBundle {

    /** Top-level name of the bundle in the template root: {@code /opt} in the qube. */
    public static final String MOUNT_NAME = "opt";
    /** The agent's trigger socket inside the qube (in its channel directory, so the host reaches it too). */
    public static final String TRIGGER_SOCKET = "agent.sock";

    /** Flags recommended for the agent by docs/architecture/broker-agent.md: small, quick to start. */
    static final List<String> JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
            "-Xmx64m", "-XX:MaxHeapFreeRatio=20", "-XX:MinHeapFreeRatio=5", "-Xshare:auto",
            "-XX:-UsePerfData");

    /**
     * Calls a preload's agent makes to itself before it reports the system running: about 200 ms more
     * per preload start, for a first call 2-3 ms faster with a tail 3x shorter (the numbers are in
     * docs/benchmarks/dispvm-latency.md).
     */
    static final int PRELOAD_WARM_UP_CALLS = 30;
    /** System property that overrides {@link #PRELOAD_WARM_UP_CALLS} (to measure other values). */
    public static final String WARM_UP_PROPERTY = "qrexec.agent.warm-up";

    /** System property with extra JVM flags for every agent (see {@link #extraFlags()}). */
    public static final String EXTRA_FLAGS_PROPERTY = "qrexec.agent.extra-jvm-flags";

    private final Path hostDir;
    private final String classPath;
    private final Path java;

    private AgentBundle(Path hostDir, String classPath, Path java) {
        this.hostDir = hostDir;
        this.classPath = classPath;
        this.java = java;
    }

    /** Where the bundle is on the host (to show at {@code /opt}). */
    public Path hostDir() {
        return hostDir;
    }

    /**
     * Copies the class path of this JVM into {@code dir} (world-readable), so the agent inside a qube
     * runs exactly the code of this daemon.
     *
     * @throws IOException if the JVM is not under {@code /usr} (the only host tree a qube sees)
     */
    public static AgentBundle create(Path dir, String hostClassPath) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
        if (!java.startsWith("/usr/")) {
            throw new IOException("the JVM " + java + " is not under /usr, which is the only host tree a sandboxed"
                    + " qube sees; run with a JDK installed under /usr (e.g. /usr/lib/jvm)");
        }
        Files.createDirectories(dir.resolve("lib"));
        List<String> entries = new ArrayList<>();
        int dirs = 0;
        for (String entry : hostClassPath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path source = Path.of(entry);
            if (Files.isDirectory(source)) {
                String name = "classes" + dirs++;
                copyTree(source, dir.resolve(name));
                entries.add("/" + MOUNT_NAME + "/" + name);
            } else if (Files.isRegularFile(source) && entry.endsWith(".jar")) {
                Path target = dir.resolve("lib").resolve(source.getFileName().toString());
                if (!Files.exists(target)) {
                    Files.copy(source, target);
                }
            } else if (entry.endsWith("/*")) {
                // a launcher-style wildcard entry (broker/target/lib/*)
                try (var jars = Files.newDirectoryStream(Path.of(entry.substring(0, entry.length() - 2)), "*.jar")) {
                    for (Path jar : jars) {
                        Path target = dir.resolve("lib").resolve(jar.getFileName().toString());
                        if (!Files.exists(target)) {
                            Files.copy(jar, target);
                        }
                    }
                }
            }
        }
        entries.add("/" + MOUNT_NAME + "/lib/*");
        makeReadable(dir);
        return new AgentBundle(dir, String.join(":", entries), java);
    }

    /** The bundle of the running JVM's class path. */
    public static AgentBundle ofThisJvm(Path dir) throws IOException {
        return create(dir, System.getProperty("java.class.path"));
    }

    /** {@link #init(String, boolean)} of a qube that is not a preload. */
    public List<String> init(String qube) {
        return init(qube, false);
    }

    /**
     * The init of a qube: the agent, listening in {@code /run/vchan} (the backend sets
     * {@code VCHAN_SOCKET_DIR} and {@code VCHAN_DOMAIN}), its trigger socket next to its vchan sockets.
     * A preload's agent warms its call path before it reports the system running
     * ({@value #PRELOAD_WARM_UP_CALLS} calls to itself): it will serve one call, right after its thaw.
     * Other qubes start without (a cold disposable's caller is waiting for the start).
     */
    public List<String> init(String qube, boolean preload) {
        Objects.requireNonNull(qube, "qube");
        List<String> cmd = new ArrayList<>();
        cmd.add(java.toString());
        cmd.addAll(jvmFlags());
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add("dev.qrexec.broker.agent.cli.AgentCli");
        cmd.add("--name=" + qube);
        cmd.add("--agent-socket=/run/vchan/" + TRIGGER_SOCKET);
        cmd.add("--open-dir=/tmp");
        if (preload) {
            cmd.add("--warm-up=" + Integer.getInteger(WARM_UP_PROPERTY, PRELOAD_WARM_UP_CALLS));
        }
        return List.copyOf(cmd);
    }

    /** The JVM flags of every sandboxed agent: {@link #JVM_FLAGS}, then {@link #extraFlags()}. */
    public static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(JVM_FLAGS);
        flags.addAll(extraFlags());
        return List.copyOf(flags);
    }

    /**
     * Flags added after {@link #JVM_FLAGS} from the system property {@value #EXTRA_FLAGS_PROPERTY}
     * (space-separated), to compare JVM settings of the agents without rebuilding.
     */
    static List<String> extraFlags() {
        String v = System.getProperty(EXTRA_FLAGS_PROPERTY, "").strip();
        return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
    }

    /** Environment of the agent: the service path includes the template's {@code /etc/qubes-rpc}. */
    public Map<String, String> environment() {
        return Map.of("QREXEC_SERVICE_PATH", "/usr/local/etc/qubes-rpc:/etc/qubes-rpc",
                "QUBES_RPC_CONFIG_PATH", "/etc/qubes/rpc-config");
    }

    private static void copyTree(Path source, Path to) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(source.relativize(d).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    Files.copy(f, to.resolve(source.relativize(f).toString()), StandardCopyOption.REPLACE_EXISTING);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** a+rX on the whole bundle: each qube runs as its own uid. */
    private static void makeReadable(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
