package dev.qrexec.broker.demo;

import dev.qrexec.xen.QubeSpec;

import java.nio.file.Path;

/**
 * The agent is each sandboxed qube's init. The qube reaches the broker's listeners in its channel
 * directory because the broker hands each one to the directory's owner before telling the qube
 * about it ({@link dev.qrexec.broker.daemon.ChannelSocketOwner}).
 */
final class SandboxAgents implements QubeAgents {

    private final AgentBundle bundle;
    private final Path templateRoot;

    SandboxAgents(AgentBundle bundle, Path templateRoot) {
        this.bundle = bundle;
        this.templateRoot = templateRoot;
    }

    @Override
    public QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube, boolean preload) {
        return spec.templateRoot(templateRoot).init(bundle.init(qube, preload)).environment(bundle.environment());
    }

    @Override
    public void started(QubeSpec spec) {
        // nothing to share: see ChannelSocketOwner
    }

    @Override
    public void stopped(String qube) {
        // died with its sandbox
    }

    @Override
    public void close() {
        // nothing held
    }
}
