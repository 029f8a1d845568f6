package dev.qrexec.broker.demo;

import dev.qrexec.xen.QubeSpec;

/**
 * How the agent of a qube comes to life. On the sandbox backend it is the qube's init, inside the
 * sandbox ({@link SandboxAgents}); the sim backend runs no process, so the agent runs in this JVM
 * ({@link InProcessAgents}) in the qube's channel directory, exactly where the broker looks for it.
 */
interface QubeAgents extends AutoCloseable {

    /**
     * Adds what the backend needs to run the agent (template root, init, environment).
     *
     * @param preload the qube is a preloaded disposable (its agent may prepare for its one call)
     */
    QubeSpec.Builder decorate(QubeSpec.Builder spec, String qube, boolean preload);

    /** The qube is running: make sure its agent listens (idempotent). */
    void started(QubeSpec spec) throws Exception;

    /** The qube halted or died: its agent is gone, or must go. */
    void stopped(String qube);

    @Override
    void close();
}
