package dev.qrexec.dispvm.registry;

/** Errors of the registry and of the disposable manager; messages say what and why. */
public class RegistryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }

    /** No qube of that name. */
    public static class NoSuchQube extends RegistryException {
        private static final long serialVersionUID = 1L;
        public NoSuchQube(String name) { super("no such qube: " + name); }
    }

    /** A qube of that name exists already. */
    public static class AlreadyExists extends RegistryException {
        private static final long serialVersionUID = 1L;
        public AlreadyExists(String name) { super("qube already exists: " + name); }
    }

    /** A value (property, feature, name) was refused; the message says which rule. */
    public static class InvalidValue extends RegistryException {
        private static final long serialVersionUID = 1L;
        public InvalidValue(String message) { super(message); }
    }

    /** The change would break something that depends on the qube (Qubes' QubesVMInUseError). */
    public static class InUse extends RegistryException {
        private static final long serialVersionUID = 1L;
        public InUse(String message) { super(message); }
    }

    /** The operation is refused for the qube's class or power state. */
    public static class NotAllowed extends RegistryException {
        private static final long serialVersionUID = 1L;
        public NotAllowed(String message) { super(message); }
    }

    /** The store could not be read or written. */
    public static class StoreFailure extends RegistryException {
        private static final long serialVersionUID = 1L;
        public StoreFailure(String message, Throwable cause) { super(message, cause); }
    }
}
