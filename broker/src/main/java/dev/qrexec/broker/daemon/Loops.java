package dev.qrexec.broker.daemon;

import io.netty.channel.EventLoop;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.RejectedExecutionException;

/** Hands work to an event loop, tolerating a loop that is shutting down with the broker. */
final class Loops {

    private static final Logger LOG = System.getLogger(Loops.class.getName());

    private Loops() {
    }

    /** Runs {@code task} on {@code loop}: at once if already there, dropped if the loop is gone. */
    static void run(EventLoop loop, Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.log(Level.DEBUG, "event loop shut down, dropping a task");
        }
    }
}
