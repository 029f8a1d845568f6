package dev.qrexec.dispvm;

import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.StoragePool;
import dev.qrexec.dispvm.registry.Volume;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.CompletableFuture;

/**
 * The management operations behind the broker's admin socket. Registry changes are synchronous and
 * return once durable; they throw {@link dev.qrexec.dispvm.registry.RegistryException} subclasses
 * with a message fit for the user. Power operations return futures.
 */
public interface QubeAdmin {

    List<Qube> list();

    Qube get(String name);

    /** Creates a TemplateVM, AppVM, StandaloneVM or RemoteVM with the given properties. */
    Qube create(String name, QubeClass klass, Map<String, String> properties);

    /**
     * Like {@link #create}, placing volumes in pools ({@code admin.vm.CreateInPool}): volume name →
     * pool; volumes not named go to the default pool, snapshots follow their source's pool.
     */
    Qube createInPool(String name, QubeClass klass, Map<String, String> properties, Map<String, String> volumePools);

    /** Storage pools ({@code admin.pool.List}). */
    List<StoragePool> pools();

    /** Adds a storage pool ({@code admin.pool.Add}); refuses an existing name. */
    void addPool(String name, String driver);

    /** The qube's volumes by name ({@code admin.vm.volume.List} / {@code Info}). */
    SortedMap<String, Volume> volumes(String qube);

    /** Grows a volume ({@code admin.vm.volume.Resize}); shrinking is refused. */
    void resizeVolume(String qube, String volume, long sizeBytes);

    /** Sets {@code rw} or {@code ephemeral} of a volume ({@code admin.vm.volume.Set.*}). */
    void setVolumeFlag(String qube, String volume, String flag, boolean value);

    /** Creates a halted disposable of {@code dvmTemplate}; named when {@code name} is given (auto_cleanup False). */
    Qube createDisposable(String dvmTemplate, Optional<String> name);

    /** {@code admin.vm.CreateDisposable} with argument {@code preload}: fills the queue's vacancies. */
    CompletableFuture<Void> preload(String dvmTemplate);

    /** Effective value ("" for none). */
    String property(String qube, String property);

    /** Whether the property is at its default. */
    boolean isDefault(String qube, String property);

    void setProperty(String qube, String property, String value);

    void resetProperty(String qube, String property);

    Optional<String> systemDefaultDispvm();

    void setSystemDefaultDispvm(String dvmTemplateOrEmpty);

    SortedMap<String, String> features(String qube);

    void setFeature(String qube, String feature, String value);

    void removeFeature(String qube, String feature);

    SortedSet<String> tags(String qube);

    void addTag(String qube, String tag);

    void removeTag(String qube, String tag);

    CompletableFuture<Void> start(String qube);

    CompletableFuture<Void> pause(String qube);

    CompletableFuture<Void> unpause(String qube);

    /** Refused (InUse) while an ordinary running qube uses {@code qube} as its netvm. */
    CompletableFuture<Void> kill(String qube);

    /** Clean shutdown within {@code timeout}; refused like {@link #kill}; a preload is destroyed instead. */
    CompletableFuture<Void> shutdown(String qube, java.time.Duration timeout);

    /** Removes a halted qube (a dvm template only preloads depend on: its preloads go first). */
    CompletableFuture<Void> remove(String qube);

    /** {@code Running}, {@code Halted}, {@code Paused}, {@code Transient}, {@code Crashed}. */
    String powerState(String qube);
}
