package dev.qrexec.broker.daemon;

/**
 * One qube's share of a call: the data port allocated on that qube. It ends when the qube's agent
 * reports CONNECTION_TERMINATED for the port, or when the agent's control channel is gone.
 */
interface CallLeg {

    /** Called once, on any thread, when the leg's port has been released. */
    void terminated(AgentSession session, int port);
}
