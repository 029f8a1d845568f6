package dev.qrexec.xen;

import java.util.Set;

/**
 * Makes one kind of backend; found by {@link Hypervisors} through {@link java.util.ServiceLoader}.
 * A backend registers its provider with one line in
 * {@code META-INF/services/dev.qrexec.xen.HypervisorProvider}.
 */
public interface HypervisorProvider {

    /** The backend name in {@link HypervisorConfig#backend()}: {@code sim}, {@code sandbox}, ... */
    String name();

    /** The options this backend reads; any other fails the configuration. */
    Set<String> options();

    /**
     * Makes the backend. Throws {@link HypervisorException.BackendUnavailable} when it cannot run on
     * this machine (with what to install or configure), {@link IllegalArgumentException} for a bad option.
     */
    Hypervisor create(HypervisorConfig config);
}
