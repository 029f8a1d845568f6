package dev.qrexec.broker.agent;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;

/** A service that is a child process. Java reports a signalled child as 128 + signal, as qrexec does. */
final class ProcessService implements RunningService {

    private final Process process;
    private final CompletableFuture<Integer> exit;

    ProcessService(Process process) {
        this.process = process;
        this.exit = process.onExit().thenApply(Process::exitValue);
    }

    @Override
    public OutputStream stdin() {
        return process.getOutputStream();
    }

    @Override
    public InputStream stdout() {
        return process.getInputStream();
    }

    @Override
    public InputStream stderr() {
        return process.getErrorStream();
    }

    @Override
    public CompletableFuture<Integer> exitStatus() {
        return exit;
    }

    @Override
    public void destroy() {
        process.destroy();
    }

    long pid() {
        return process.pid();
    }
}
