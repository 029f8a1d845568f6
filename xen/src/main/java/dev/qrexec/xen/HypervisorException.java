package dev.qrexec.xen;

/**
 * Base of every error the hypervisor layer reports. Messages say what happened and, where there is
 * one, what to do ({@code bubblewrap not found: apt-get install bubblewrap}).
 * Futures returned by {@link Hypervisor} complete exceptionally with a subclass of this.
 */
public class HypervisorException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public HypervisorException(String message) {
        super(message);
    }

    public HypervisorException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The backend cannot run here at all (missing binary, library, permission, cgroup controller). */
    public static class BackendUnavailable extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public BackendUnavailable(String message) { super(message); }
        public BackendUnavailable(String message, Throwable cause) { super(message, cause); }
    }

    /** No qube of that name is defined. */
    public static class NoSuchQube extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public NoSuchQube(String name) { super("no such qube: " + name); }
    }

    /** A qube of that name (or that domain id) is already defined. */
    public static class AlreadyDefined extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public AlreadyDefined(String message) { super(message); }
    }

    /** The operation is not valid in the qube's current state (pause a halted qube, ...). */
    public static class InvalidState extends HypervisorException {
        private static final long serialVersionUID = 1L;
        private final QubeState state;
        public InvalidState(String qube, String operation, QubeState state) {
            super("cannot " + operation + " qube '" + qube + "': it is " + state.name().toLowerCase(java.util.Locale.ROOT));
            this.state = state;
        }
        public QubeState state() { return state; }
    }

    /** Not enough host memory for the qube. */
    public static class InsufficientMemory extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public InsufficientMemory(long askedMiB, long freeMiB) {
            super("not enough memory: " + askedMiB + " MiB asked, " + freeMiB + " free");
        }
    }

    /** The operation did not finish in time; the qube's state is what {@link Hypervisor#state} says. */
    public static class Timeout extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public Timeout(String message) { super(message); }
    }

    /** The backend tried and failed (a process that would not start, a libvirt error, I/O). */
    public static class OperationFailed extends HypervisorException {
        private static final long serialVersionUID = 1L;
        public OperationFailed(String message) { super(message); }
        public OperationFailed(String message, Throwable cause) { super(message, cause); }
    }
}
