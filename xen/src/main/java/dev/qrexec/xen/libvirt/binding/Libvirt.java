package dev.qrexec.xen.libvirt.binding;

import com.sun.jna.Native;
import dev.qrexec.xen.HypervisorException;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Loads {@code libvirt.so.0} once per library name and process, and silences libvirt's default
 * error handler (which prints every error to stderr: we report errors ourselves, typed).
 */
public final class Libvirt {

    /** The soname of libvirt's stable ABI; found through the dynamic linker's usual search. */
    public static final String DEFAULT_LIBRARY = "libvirt.so.0";

    private static final System.Logger LOG = System.getLogger(Libvirt.class.getName());
    private static final ConcurrentMap<String, LibvirtLibrary> LOADED = new ConcurrentHashMap<>();

    /**
     * Strongly referenced for the life of the process: libvirt keeps the native pointer, and JNA
     * frees the native stub when the Java object is collected.
     */
    private static final LibvirtLibrary.ErrorCallback QUIET_ERRORS = (userData, error) -> { };

    private Libvirt() {
    }

    /** The library, loaded on first use; BackendUnavailable with the install hint if absent. */
    public static LibvirtLibrary load(String libraryName) {
        try {
            return LOADED.computeIfAbsent(libraryName, Libvirt::loadNow);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new HypervisorException.BackendUnavailable(
                    "libvirt not found: apt-get install libvirt0 (could not load " + libraryName + ": "
                            + e.getMessage() + ")", e);
        }
    }

    private static LibvirtLibrary loadNow(String libraryName) {
        LibvirtLibrary lib = Native.load(libraryName, LibvirtLibrary.class);
        lib.virSetErrorFunc(null, QUIET_ERRORS);
        LOG.log(System.Logger.Level.DEBUG, "loaded {0}", libraryName);
        return lib;
    }
}
