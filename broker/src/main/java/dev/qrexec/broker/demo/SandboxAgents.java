package dev.qrexec.broker.demo;

import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The agent is each sandboxed qube's init. Its channel directory is shared with the qube's group
 * once it runs, so that the broker's listeners in it are reachable by the qube
 * ({@link ChannelSocketAccess}).
 */
final class SandboxAgents implements QubeAgents {

    private final AgentBundle bundle;
    private final Path templateRoot;
    private final ChannelSocketAccess access;

    SandboxAgents(AgentBundle bundle, Path templateRoot) {
        this.bundle = bundle;
        this.templateRoot = templateRoot;
        this.access = new ChannelSocketAccess();
    }

    @Override
    public QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube, boolean preload) {
        return spec.templateRoot(templateRoot).init(bundle.init(qube, preload)).environment(bundle.environment());
    }

    /** init started the agent; before the broker binds anything in its directory, share it (see access). */
    @Override
    public void started(QubeSpec spec) throws IOException {
        access.share(spec.channelDir().orElseThrow(() ->
                new IllegalStateException(spec.name() + " has no channel directory")));
    }

    @Override
    public void stopped(String qube) {
        // died with its sandbox
    }

    @Override
    public void close() {
        access.close();
    }
}
