package dev.qrexec.broker.admin;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What the admin socket needs from the qube registry: the management operations of the Admin API,
 * by qube name. Implementations validate and throw {@link AdminException} with a Qubes exception
 * type; they are called from the admin socket's worker threads, never from an event loop, and may
 * block (starting a qube takes time).
 */
public interface AdminBackend {

    /** A qube as {@code admin.vm.List} shows it. */
    record QubeSummary(String name, String qubeClass, String powerState) {
    }

    /** A property's value as {@code admin.vm.property.Get} returns it. */
    record PropertyValue(boolean isDefault, String type, String value) {
    }

    /** One disposable template's preload queue, for {@code qvm status}. */
    record PreloadQueue(String template, int max, boolean global, List<String> ready, List<String> preloading,
                        List<String> claimed) {
        public PreloadQueue {
            ready = List.copyOf(ready);
            preloading = List.copyOf(preloading);
            claimed = List.copyOf(claimed);
        }
    }

    /** An event for {@code admin.Events}; {@code subject} is a qube name or empty for the system. */
    record Event(String subject, String name, Map<String, String> attributes) {
    }

    List<QubeSummary> list();

    /**
     * Creates a qube.
     *
     * @param qubeClass  {@code AppVM}, {@code TemplateVM}, {@code DispVM}, {@code StandaloneVM}
     * @param template   the template, empty for classes without one
     * @param properties at least {@code name}; usually {@code label}
     */
    void create(String qubeClass, String template, Map<String, String> properties) throws AdminException;

    List<String> propertyNames(String qube) throws AdminException;

    PropertyValue property(String qube, String property) throws AdminException;

    void setProperty(String qube, String property, String value) throws AdminException;

    /** Back to the default value. */
    void resetProperty(String qube, String property) throws AdminException;

    List<String> featureNames(String qube) throws AdminException;

    /** Empty when the feature is not set; a set feature may have an empty value. */
    Optional<String> feature(String qube, String feature) throws AdminException;

    void setFeature(String qube, String feature, String value) throws AdminException;

    /** @return false when the feature was not set */
    boolean removeFeature(String qube, String feature) throws AdminException;

    Set<String> tags(String qube) throws AdminException;

    void addTag(String qube, String tag) throws AdminException;

    /** @return false when the tag was not set */
    boolean removeTag(String qube, String tag) throws AdminException;

    void start(String qube) throws AdminException;

    void pause(String qube) throws AdminException;

    void unpause(String qube) throws AdminException;

    void kill(String qube) throws AdminException;

    void remove(String qube) throws AdminException;

    /**
     * Obtains a disposable of {@code template} for {@code caller}: a ready preload if there is one,
     * else a new one (spec dispvm-preload 3.2).
     *
     * @return the new disposable's name
     */
    String createDisposable(String template, String caller) throws AdminException;

    /** Names of the qube's volumes ({@code admin.vm.volume.List}). */
    List<String> volumeNames(String qube) throws AdminException;

    /** {@code admin.vm.volume.Info}: key → value in qubesd's order ({@code pool}, {@code vid}, ...). */
    Map<String, String> volumeInfo(String qube, String volume) throws AdminException;

    /** {@code admin.vm.volume.Resize}: grows a volume to {@code sizeBytes}. */
    void resizeVolume(String qube, String volume, long sizeBytes) throws AdminException;

    /** Names of the storage pools ({@code admin.pool.List}). */
    List<String> poolNames();

    /** The UUID of a qube, for {@code CreateDisposable} with the {@code uuid} payload. */
    String uuid(String qube) throws AdminException;

    /** Every disposable template's preload queue. */
    List<PreloadQueue> preloadQueues();

    /** The {@code internal.GetSystemInfo} JSON document. */
    String systemInfoJson();

    /**
     * Delivers events to {@code listener} on the backend's own thread until the returned handle is
     * closed. The listener must not block.
     */
    AutoCloseable subscribe(Consumer<Event> listener);
}
