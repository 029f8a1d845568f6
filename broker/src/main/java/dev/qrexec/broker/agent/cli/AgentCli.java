package dev.qrexec.broker.agent.cli;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.services.DefaultServices;
import dev.qrexec.broker.services.FileOpener;
import dev.qrexec.broker.services.UrlOpener;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code agent [options]}: runs the qrexec agent of one qube until it is terminated. Options default
 * to the environment a Qubes agent built for the socket transport reads ({@code VCHAN_SOCKET_DIR},
 * {@code VCHAN_DOMAIN}, {@code QREXEC_SERVICE_PATH}, {@code QUBES_RPC_CONFIG_PATH}).
 */
public final class AgentCli {

    private static final System.Logger LOG = System.getLogger(AgentCli.class.getName());
    /** Upper bound of {@code --warm-up}: more calls buy nothing measurable and delay the start. */
    static final int MAX_WARM_UP = 200;

    private AgentCli() {
    }

    public static void main(String[] args) {
        int code = execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs the agent; returns only on a usage or start-up error (the agent itself runs until killed). */
    public static int execute(String... args) {
        return execute(System.getenv(), System.err, args);
    }

    static int execute(Map<String, String> env, PrintStream err, String... args) {
        Started started;
        try {
            started = start(env, args);
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("agent: " + e.getMessage());
            usage(err);
            return 2;
        } catch (IOException e) {
            err.println("agent: cannot start: " + e.getMessage());
            return 1;
        }
        if (started == null) {
            usage(err);
            return 0;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            started.agent().close();
            stopped.countDown();
        }, "agent-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** A started agent and the options it came from. */
    record Started(Agent agent, Path readyFile) {
    }

    /** Parses the options and starts the agent; null for {@code --help}. */
    static Started start(Map<String, String> env, String... args) throws IOException {
        AgentConfig.Builder b = AgentConfig.builder();
        b.vchanDir(Path.of(env.getOrDefault("VCHAN_SOCKET_DIR", "/var/run/vchan")));
        if (env.containsKey("VCHAN_DOMAIN")) {
            b.domain(parseInt(env.get("VCHAN_DOMAIN"), "VCHAN_DOMAIN"));
        }
        if (env.containsKey("QREXEC_SERVICE_PATH")) {
            b.servicePath(env.get("QREXEC_SERVICE_PATH"));
        }
        if (env.containsKey("QUBES_RPC_CONFIG_PATH")) {
            b.configPath(env.get("QUBES_RPC_CONFIG_PATH"));
        }
        UrlOpener urls = UrlOpener.logOnly();
        FileOpener files = FileOpener.logOnly();
        Path openDir = Path.of(System.getProperty("java.io.tmpdir"));
        Path sessionFile = null;
        Path readyFile = null;
        int warmUp = 0;
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            }
            int eq = a.indexOf('=');
            if (!a.startsWith("--") || eq < 0) {
                throw new IllegalArgumentException("options are --name=value, got '" + a + "'");
            }
            String key = a.substring(2, eq);
            String value = a.substring(eq + 1);
            switch (key) {
                case "vchan-dir" -> b.vchanDir(Path.of(value));
                case "domain" -> b.domain(parseInt(value, "--domain"));
                case "name" -> b.qubeName(value);
                case "agent-socket" -> b.triggerSocket(Path.of(value));
                case "service-path" -> b.servicePath(value);
                case "config-path" -> b.configPath(value);
                case "user-mode" -> b.userMode(switch (value) {
                    case "self" -> UserMode.SELF;
                    case "switch" -> UserMode.SWITCH;
                    default -> throw new IllegalArgumentException("--user-mode is self or switch, got " + value);
                });
                case "url-command" -> urls = UrlOpener.command(words(value));
                case "file-command" -> files = FileOpener.command(words(value));
                case "open-dir" -> openDir = Path.of(value);
                case "session-file" -> sessionFile = Path.of(value);
                case "ready-file" -> readyFile = Path.of(value);
                case "max-calls" -> b.maxCalls(parseInt(value, "--max-calls"));
                case "warm-up" -> {
                    warmUp = parseInt(value, "--warm-up");
                    if (warmUp < 0 || warmUp > MAX_WARM_UP) {
                        throw new IllegalArgumentException("--warm-up must be in [0, " + MAX_WARM_UP + "], got " + warmUp);
                    }
                }
                default -> throw new IllegalArgumentException("unknown option --" + key);
            }
        }
        b.javaServices(DefaultServices.template(urls, files, openDir));
        AgentConfig config = b.build();
        AgentState state = new AgentState(config.qubeName());
        Agent agent = Agent.start(config, state, warmUp);
        watchSession(state, sessionFile);
        if (readyFile != null) {
            Files.writeString(readyFile, ProcessHandle.current().pid() + "\n");
        }
        return new Started(agent, readyFile);
    }

    /**
     * Without a session file the session counts as up at once (a qube without GUI); with one, it is
     * up when the file appears (the GUI session's start-up script creates it).
     */
    private static void watchSession(AgentState state, Path sessionFile) {
        if (sessionFile == null) {
            state.markSessionReady();
            return;
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-session-watch");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            if (Files.exists(sessionFile)) {
                LOG.log(System.Logger.Level.INFO, "user session is up (" + sessionFile + ")");
                state.markSessionReady();
                timer.shutdown();
            }
        }, 0, 200, TimeUnit.MILLISECONDS);
    }

    private static List<String> words(String value) {
        List<String> w = Arrays.stream(value.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        if (w.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        return w;
    }

    private static int parseInt(String value, String what) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number, got '" + value + "'");
        }
    }

    private static void usage(PrintStream err) {
        err.println("usage: agent [--domain=ID] [--vchan-dir=DIR] [--name=QUBE] [--agent-socket=PATH]");
        err.println("             [--service-path=DIRS] [--config-path=DIRS] [--user-mode=self|switch]");
        err.println("             [--url-command=CMD] [--file-command=CMD] [--open-dir=DIR]");
        err.println("             [--session-file=PATH] [--ready-file=PATH] [--max-calls=N] [--warm-up=N]");
        err.println("--warm-up=N: N calls to itself before reporting the system running (default 0; a preloaded");
        err.println("  disposable's one call is then fast: see docs/architecture/dispvm-latency.md)");
        err.println("env: VCHAN_DOMAIN, VCHAN_SOCKET_DIR, QREXEC_SERVICE_PATH, QUBES_RPC_CONFIG_PATH");
        err.println("recommended JVM flags (docs/architecture/broker-agent.md): -XX:TieredStopAtLevel=1");
        err.println("  -XX:+UseSerialGC -Xss512k -Xmx64m -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5 -Xshare:auto");
    }
}
