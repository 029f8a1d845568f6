package dev.qrexec.broker.demo;

import dev.qrexec.xen.QubeSpec;

import java.nio.file.Path;

/** The agent is each sandboxed qube's init: nothing to do here once the spec says so. */
final class SandboxAgents implements QubeAgents {

    private final AgentBundle bundle;
    private final Path templateRoot;

    SandboxAgents(AgentBundle bundle, Path templateRoot) {
        this.bundle = bundle;
        this.templateRoot = templateRoot;
    }

    @Override
    public QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube) {
        return spec.templateRoot(templateRoot).init(bundle.init(qube)).environment(bundle.environment());
    }

    @Override
    public void started(QubeSpec spec) {
        // init started the agent; the broker's connector finds it when it listens
    }

    @Override
    public void stopped(String qube) {
        // died with its sandbox
    }

    @Override
    public void close() {
    }
}
