package dev.qrexec.broker.demo;

import dev.qrexec.broker.agent.Agent;
import dev.qrexec.broker.agent.AgentConfig;
import dev.qrexec.broker.agent.AgentState;
import dev.qrexec.broker.agent.UserMode;
import dev.qrexec.broker.services.DefaultServices;
import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Agents of sim qubes, run in this JVM: one {@link Agent} per running qube, in the qube's channel
 * directory, with the services of the default template and the template's service directory.
 * Thread-safe: the map is concurrent and each qube starts or stops its agent once.
 */
final class InProcessAgents implements QubeAgents {

    private static final System.Logger LOG = System.getLogger(InProcessAgents.class.getName());

    private final Path serviceDir;
    private final Map<String, Agent> running = new ConcurrentHashMap<>();

    /** @param serviceDir the template's {@code /etc/qubes-rpc}, as the sandbox agents see it */
    InProcessAgents(Path serviceDir) {
        this.serviceDir = serviceDir;
    }

    @Override
    public QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube, boolean preload) {
        return spec;
    }

    @Override
    public void started(QubeSpec spec) throws IOException {
        Path dir = Files.createDirectories(spec.channelDir().orElseThrow(() ->
                new IllegalStateException(spec.name() + " has no channel directory")));
        IOException[] failure = new IOException[1];
        running.computeIfAbsent(spec.name(), name -> {
            try {
                AgentState state = new AgentState(name);
                state.markSessionReady();
                Path tmp = Files.createDirectories(dir.resolveSibling("." + name + "-tmp"));
                return Agent.start(AgentConfig.builder().vchanDir(dir).domain(spec.domainId()).qubeName(name)
                        .triggerSocket(dir.resolve(AgentBundle.TRIGGER_SOCKET)).servicePath(serviceDir.toString())
                        .configPath(serviceDir.resolveSibling("rpc-config").toString())
                        .javaServices(DefaultServices.template(
                                dev.qrexec.broker.services.UrlOpener.logOnly(),
                                dev.qrexec.broker.services.FileOpener.logOnly(), tmp))
                        .userMode(UserMode.SELF).dataConnectTimeout(Duration.ofSeconds(10))
                        .sessionTimeout(Duration.ofSeconds(10)).build(), state);
            } catch (IOException e) {
                failure[0] = e;
                return null;
            }
        });
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    @Override
    public void stopped(String qube) {
        Agent a = running.remove(qube);
        if (a != null) {
            a.close();
            LOG.log(Level.DEBUG, "agent of {0} stopped", qube);
        }
    }

    /** Names of qubes whose agent runs here. */
    List<String> runningAgents() {
        return List.copyOf(running.keySet());
    }

    @Override
    public void close() {
        for (String q : List.copyOf(running.keySet())) {
            stopped(q);
        }
    }
}
