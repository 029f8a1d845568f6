package dev.qrexec.broker.agent;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Turns a command line into a running service: looks the service up (service path first, then the
 * agent's Java services), reads its config, builds the environment and starts it. May block (waiting
 * for the session), so it runs on a worker thread, never on an event loop.
 */
public final class ServiceLauncher {

    private static final System.Logger LOG = System.getLogger(ServiceLauncher.class.getName());

    /** Outcome of {@link #launch}. */
    public sealed interface Launch permits Started, Failed {
    }

    /** The service runs. {@code what} names it for logs; {@code ending} says when its call is over. */
    public record Started(RunningService service, String what, CallEnding ending) implements Launch {
        public Started {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(ending, "ending");
        }

        /** A process or Java service. */
        public Started(RunningService service, String what) {
            this(service, what, CallEnding.PROCESS);
        }
    }

    /** The service could not be started; {@code exitCode} is 125, 126 or 127. */
    public record Failed(int exitCode, String reason) implements Launch {
    }

    private final ServiceLocator locator;
    private final List<Path> configDirs;
    private final Map<String, JavaService> javaServices;
    private final AgentState agent;
    private final UserMode userMode;
    private final Executor serviceThreads;
    private final Duration sessionTimeout;

    public ServiceLauncher(ServiceLocator locator, List<Path> configDirs, Map<String, JavaService> javaServices,
                           AgentState agent, UserMode userMode, Executor serviceThreads,
                           Duration sessionTimeout) {
        this.locator = Objects.requireNonNull(locator, "locator");
        this.configDirs = List.copyOf(configDirs);
        this.javaServices = Map.copyOf(javaServices);
        this.agent = Objects.requireNonNull(agent, "agent");
        this.userMode = Objects.requireNonNull(userMode, "userMode");
        this.serviceThreads = Objects.requireNonNull(serviceThreads, "serviceThreads");
        this.sessionTimeout = Objects.requireNonNull(sessionTimeout, "sessionTimeout");
    }

    /**
     * Starts what {@code commandLine} names.
     *
     * @param justExec true for JUST_EXEC: the process gets {@code /dev/null} for its stdio
     */
    public Launch launch(CommandLine commandLine, boolean justExec) {
        return launch(commandLine, justExec, null);
    }

    /**
     * Like {@link #launch} (same parsing, config and service look-ups), but runs {@code builtin}
     * whatever the service path holds: the agent's warm-up calls, which must not start a file.
     */
    Launch launchBuiltin(CommandLine commandLine, JavaService builtin) {
        return launch(commandLine, false, Objects.requireNonNull(builtin, "builtin"));
    }

    private Launch launch(CommandLine commandLine, boolean justExec, JavaService forced) {
        RpcInvocation call;
        try {
            call = commandLine.rpcOrNull();
        } catch (IllegalArgumentException e) {
            return new Failed(ExitCodes.PROBLEM, "malformed QUBESRPC command: " + e.getMessage());
        }
        if (call == null) {
            return launchShell(commandLine, justExec);
        }
        ServiceConfig config;
        try {
            config = ServiceConfig.lookup(configDirs, call);
        } catch (IOException e) {
            return new Failed(ExitCodes.PROBLEM, "bad service config: " + e.getMessage());
        }
        String user = config.forceUser().orElse(commandLine.user());
        if (config.waitForSession() && !commandLine.noGui()) {
            try {
                if (!agent.awaitSession(sessionTimeout)) {
                    return new Failed(ExitCodes.PROBLEM, "no session after " + sessionTimeout);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Failed(ExitCodes.PROBLEM, "interrupted while waiting for the session");
            }
        }
        Map<String, String> env = ServiceEnvironment.of(call, ProcessHandle.current().pid());
        Optional<ServiceLocator.Found> found = locator.find(call);
        if (forced != null) {
            return new Started(new JavaServiceRun(call.fullName(), forced, call, env, agent, serviceThreads, false),
                    "java:" + call.fullName());
        }
        boolean socket = found.isPresent() && found.get().kind() == ServiceLocator.Kind.SOCKET;
        if (!socket && (config.exitOnClientEof() || config.exitOnServiceEof() || config.skipServiceDescriptor())) {
            // As Qubes does: these keys only mean something for a socket service.
            LOG.log(System.Logger.Level.WARNING, "service {0}: exit-on-client-eof, exit-on-service-eof and"
                    + " skip-service-descriptor apply to socket services only; ignored", call.fullName());
        }
        if (found.isEmpty()) {
            JavaService builtin = javaServices.get(call.fullName());
            if (builtin == null) {
                builtin = javaServices.get(call.service());
            }
            if (builtin == null) {
                return new Failed(ExitCodes.SERVICE_NOT_FOUND, "service " + call.fullName() + " not found");
            }
            return new Started(new JavaServiceRun(call.fullName(), builtin, call, env, agent, serviceThreads,
                    justExec), "java:" + call.fullName());
        }
        ServiceLocator.Found file = found.get();
        switch (file.kind()) {
            case SOCKET -> {
                String descriptor = config.skipServiceDescriptor() ? null : call.fullName() + " " + call.source();
                try {
                    return new Started(SocketService.connect(file.file(), descriptor), "socket:" + file.file(),
                            CallEnding.socket(config));
                } catch (IOException e) {
                    return new Failed(ExitCodes.PROBLEM, "cannot connect to service socket " + file.file()
                            + ": " + e.getMessage());
                }
            }
            case NOT_EXECUTABLE -> {
                return new Failed(ExitCodes.REQUEST_REFUSED, "service file " + file.file() + " is not executable");
            }
            default -> {
                List<String> argv = new ArrayList<>();
                argv.add(file.file().toString());
                call.argument().filter(a -> !a.isEmpty()).ifPresent(argv::add);
                return startProcess(user, argv, env, justExec, file.file().toString());
            }
        }
    }

    private Launch launchShell(CommandLine commandLine, boolean justExec) {
        return startProcess(commandLine.user(), List.of("/bin/sh", "-c", commandLine.command()), Map.of(),
                justExec, "shell command");
    }

    private Launch startProcess(String user, List<String> argv, Map<String, String> env, boolean justExec,
                                String what) {
        List<String> command = new ArrayList<>();
        if (userMode == UserMode.SWITCH && !user.equals("root")) {
            if (!userExists(user)) {
                return new Failed(ExitCodes.PROBLEM, "unknown user '" + user + "'");
            }
            command.addAll(List.of("runuser", "-u", user, "--"));
        }
        command.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        if (justExec) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        try {
            Process p = pb.start();
            LOG.log(System.Logger.Level.DEBUG, "started " + what + " as pid " + p.pid());
            return new Started(new ProcessService(p), what);
        } catch (IOException e) {
            return new Failed(ExitCodes.PROBLEM, "cannot start " + what + ": " + e.getMessage());
        }
    }

    private static boolean userExists(String user) {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                if (line.startsWith(user + ":")) {
                    return true;
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read /etc/passwd: " + e.getMessage());
        }
        return false;
    }
}
