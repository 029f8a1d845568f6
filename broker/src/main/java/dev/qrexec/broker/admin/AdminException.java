package dev.qrexec.broker.admin;

/**
 * An Admin API failure, carried to the client as {@code 2\0<type>\0<traceback>\0<message>\0}.
 * {@code type} uses Qubes' exception class names so existing clients recognise them.
 */
public final class AdminException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String type;

    public AdminException(String type, String message) {
        super(message);
        this.type = type;
    }

    /** The exception class name sent on the wire, e.g. {@code QubesVMNotFoundError}. */
    public String type() {
        return type;
    }

    public static AdminException protocol(String message) {
        return new AdminException("ProtocolError", message);
    }

    public static AdminException notFound(String qube) {
        return new AdminException("QubesVMNotFoundError", "No such domain: '" + qube + "'");
    }

    public static AdminException value(String message) {
        return new AdminException("QubesValueError", message);
    }

    public static AdminException permission(String message) {
        return new AdminException("PermissionDenied", message);
    }

    public static AdminException noSuchProperty(String qube, String property) {
        return new AdminException("QubesNoSuchPropertyError", "Invalid property '" + property + "' of " + qube);
    }

    public static AdminException featureNotFound(String qube, String feature) {
        return new AdminException("QubesFeatureNotFoundError", "Feature '" + feature + "' not set on " + qube);
    }

    public static AdminException tagNotFound(String qube, String tag) {
        return new AdminException("QubesTagNotFoundError", "Tag '" + tag + "' not set on " + qube);
    }

    public static AdminException state(String message) {
        return new AdminException("QubesVMError", message);
    }
}
