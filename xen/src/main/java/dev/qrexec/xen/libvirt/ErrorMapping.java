package dev.qrexec.xen.libvirt;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeState;
import dev.qrexec.xen.libvirt.binding.LibvirtError;

import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * Turns libvirt's errors into the SPI's typed {@link HypervisorException}s. The libvirt error is
 * always kept as the cause, and its message is in the text wherever the type alone does not say
 * everything.
 */
final class ErrorMapping {

    private ErrorMapping() {
    }

    /** An error of an operation on a qube; {@code state} is the qube's state as the backend knew it. */
    static HypervisorException forOperation(LibvirtError e, String qube, String operation, QubeState state) {
        HypervisorException mapped = switch (e.code()) {
            case LibvirtError.VIR_ERR_NO_DOMAIN -> new HypervisorException.NoSuchQube(qube);
            case LibvirtError.VIR_ERR_DOM_EXIST -> new HypervisorException.AlreadyDefined(
                    "cannot " + operation + " qube '" + qube + "': " + e.libvirtMessage());
            case LibvirtError.VIR_ERR_OPERATION_INVALID -> new HypervisorException.InvalidState(qube, operation, state);
            case LibvirtError.VIR_ERR_OPERATION_TIMEOUT -> new HypervisorException.Timeout(
                    "libvirt timed out trying to " + operation + " qube '" + qube + "': " + e.libvirtMessage());
            case LibvirtError.VIR_ERR_XML_ERROR, LibvirtError.VIR_ERR_XML_DETAIL,
                    LibvirtError.VIR_ERR_CONFIG_UNSUPPORTED -> new HypervisorException.OperationFailed(
                    "libvirt rejected the domain XML of qube '" + qube + "': " + e.libvirtMessage(), e);
            case LibvirtError.VIR_ERR_NO_SUPPORT -> new HypervisorException.OperationFailed(
                    "this libvirt driver cannot " + operation + " qube '" + qube + "': " + e.libvirtMessage(), e);
            default -> new HypervisorException.OperationFailed(
                    "libvirt could not " + operation + " qube '" + qube + "': " + e.libvirtMessage()
                            + " (" + e.call() + ", libvirt error " + e.code() + ")", e);
        };
        if (mapped.getCause() == null) {
            mapped.initCause(e);
        }
        return mapped;
    }

    /** A failure to open the connection: the backend cannot run. */
    static HypervisorException forOpen(LibvirtError e, String uri) {
        String hint = uri.startsWith("test:") ? "" : " (is libvirtd running and may this user connect to it?)";
        return new HypervisorException.BackendUnavailable(
                "cannot connect to libvirt at " + uri + ": " + e.libvirtMessage() + hint, e);
    }

    /** Unwraps what a future stage threw into the HypervisorException the SPI promises. */
    static HypervisorException unwrap(Throwable t, String qube, String operation) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof HypervisorException he) {
            return he;
        }
        if (c instanceof RejectedExecutionException) {
            return new HypervisorException.OperationFailed("cannot " + operation + " qube '" + qube
                    + "': " + c.getMessage(), c);
        }
        return new HypervisorException.OperationFailed("cannot " + operation + " qube '" + qube + "': " + c, c);
    }
}
