package dev.qrexec.broker.demo;

import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The agent is each sandboxed qube's init. Its channel directory is watched so that the broker's
 * listeners in it are reachable by the qube's uid ({@link ChannelSocketAccess}).
 */
final class SandboxAgents implements QubeAgents {

    private final AgentBundle bundle;
    private final Path templateRoot;
    private final ChannelSocketAccess access;

    SandboxAgents(AgentBundle bundle, Path templateRoot) throws IOException {
        this.bundle = bundle;
        this.templateRoot = templateRoot;
        this.access = new ChannelSocketAccess();
    }

    @Override
    public QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube, Path channelDir) {
        try {
            Files.createDirectories(channelDir);
            access.watch(channelDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the channel directory of " + qube, e);
        }
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
        access.close();
    }
}
