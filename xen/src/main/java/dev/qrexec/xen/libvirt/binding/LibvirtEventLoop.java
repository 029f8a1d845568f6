package dev.qrexec.xen.libvirt.binding;

import dev.qrexec.xen.HypervisorException;

/**
 * libvirt's default event loop, run by one dedicated daemon thread ({@code qrexec-libvirt-event-loop}).
 *
 * <p>libvirt allows one event implementation per process, registered before the first connection
 * that wants events is opened. So this is a process-wide, reference-counted singleton: each backend
 * {@link #acquire}s it before opening its connection and {@link #release}s it after closing; the
 * thread stops when the last backend is gone and starts again for the next one.
 *
 * <p>All libvirt event callbacks (domain life-cycle events, timers) run on this thread.
 */
public final class LibvirtEventLoop {

    private static final System.Logger LOG = System.getLogger(LibvirtEventLoop.class.getName());
    private static final Object LOCK = new Object();
    /** Guarded by LOCK. */
    private static boolean registered;
    private static int users;
    private static Thread thread;
    private static volatile boolean stopping;

    /** Wakes the loop so it sees {@link #stopping}; removes itself. Strongly referenced (JNA). */
    private static LibvirtLibrary wakeLibrary;
    private static final LibvirtLibrary.TimeoutCallback WAKE =
            (timer, opaque) -> wakeLibrary.virEventRemoveTimeout(timer);

    private LibvirtEventLoop() {
    }

    /** Registers the default implementation (once per process) and makes sure the thread runs. */
    public static void acquire(LibvirtLibrary lib) {
        synchronized (LOCK) {
            if (!registered) {
                if (lib.virEventRegisterDefaultImpl() < 0) {
                    throw new HypervisorException.BackendUnavailable(
                            "libvirt event loop could not be registered: "
                                    + LibvirtError.last(lib, "virEventRegisterDefaultImpl").libvirtMessage());
                }
                registered = true;
                wakeLibrary = lib;
            }
            users++;
            if (thread == null) {
                stopping = false;
                Thread t = new Thread(() -> run(lib), "qrexec-libvirt-event-loop");
                t.setDaemon(true);
                thread = t;
                t.start();
            }
        }
    }

    /**
     * Drops one user; the last one stops the thread and waits for it (under the lock, so a
     * concurrent {@link #acquire} never sees two loop threads).
     */
    public static void release(LibvirtLibrary lib) {
        synchronized (LOCK) {
            if (users == 0) {
                return;
            }
            users--;
            if (users > 0 || thread == null) {
                return;
            }
            stopping = true;
            // A zero-frequency timeout fires on the next iteration, so virEventRunDefaultImpl returns.
            lib.virEventAddTimeout(0, WAKE, null, null);
            Thread toJoin = thread;
            thread = null;
            if (toJoin == Thread.currentThread()) {
                return;
            }
            try {
                toJoin.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (toJoin.isAlive()) {
                LOG.log(System.Logger.Level.WARNING, "libvirt event loop thread did not stop within 5 s");
            }
        }
    }

    /** True while the event loop thread runs (for tests and diagnostics). */
    public static boolean running() {
        synchronized (LOCK) {
            return thread != null;
        }
    }

    private static void run(LibvirtLibrary lib) {
        LOG.log(System.Logger.Level.DEBUG, "libvirt event loop started");
        while (!stopping) {
            if (lib.virEventRunDefaultImpl() < 0) {
                LOG.log(System.Logger.Level.ERROR, "libvirt event loop iteration failed: {0}",
                        LibvirtError.last(lib, "virEventRunDefaultImpl").libvirtMessage());
            }
        }
        LOG.log(System.Logger.Level.DEBUG, "libvirt event loop stopped");
    }
}
