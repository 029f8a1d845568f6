package dev.qrexec.xen;

import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;

/** Makes the backend a {@link HypervisorConfig} names. */
public final class Hypervisors {

    private Hypervisors() {
    }

    /**
     * Makes the backend {@code config} names, after checking its options.
     *
     * @throws IllegalArgumentException for an unknown backend or option, or a bad option value
     * @throws HypervisorException.BackendUnavailable if the backend cannot run here
     */
    public static Hypervisor create(HypervisorConfig config) {
        Objects.requireNonNull(config, "config");
        HypervisorProvider provider = providers().stream()
                .filter(p -> p.name().equals(config.backend()))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown hypervisor backend '" + config.backend()
                        + "'; available: " + String.join(", ", available())));
        config.requireOnly(provider.options());
        return provider.create(config);
    }

    /** Names of the backends on the class path, sorted. */
    public static List<String> available() {
        return providers().stream().map(HypervisorProvider::name).sorted().toList();
    }

    private static List<HypervisorProvider> providers() {
        return ServiceLoader.load(HypervisorProvider.class, Hypervisors.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList();
    }
}
