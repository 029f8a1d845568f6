package dev.qrexec.dispvm.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.qrexec.dispvm.registry.Qube;
import dev.qrexec.dispvm.registry.QubeClass;
import dev.qrexec.dispvm.registry.RegistryException;
import dev.qrexec.dispvm.registry.RegistryState;
import dev.qrexec.dispvm.registry.StoragePool;
import dev.qrexec.dispvm.registry.Volume;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The registry's file: {@code <dir>/qubes.json}, JSON of {@link StoreDocument}.
 *
 * <p>Atomicity: a state is written to {@code qubes.json.tmp}, forced to disk, renamed over
 * {@code qubes.json} (atomic rename), and the directory is forced so the rename itself is durable.
 * A crash at any point leaves either the old file or the new one, never a mix; a stale temp file is
 * ignored and deleted on open. One process at a time: {@link #open} takes an exclusive lock on
 * {@code qubes.lock} for the life of the store.
 *
 * <p>Threads: {@link #write} is called by one thread at a time (the {@link StoreWriter}); {@link #load}
 * only at start-up.
 */
public final class RegistryStore implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RegistryStore.class.getName());
    static final String FILE = "qubes.json";
    static final String TEMP = "qubes.json.tmp";
    static final String LOCK = "qubes.lock";

    private final Path dir;
    private final ObjectMapper mapper;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private RegistryStore(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.mapper = new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);
    }

    /** Opens (creating) the store directory and locks it against a second daemon. */
    public static RegistryStore open(Path dir) {
        try {
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
                throw new RegistryException.StoreFailure("store " + dir + " is in use by another daemon ("
                        + LOCK + " is locked)", null);
            }
            Files.deleteIfExists(dir.resolve(TEMP));
            return new RegistryStore(dir, ch, lock);
        } catch (IOException e) {
            throw new RegistryException.StoreFailure("cannot open store " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return dir.resolve(FILE);
    }

    /** Reads the stored state, or the initial state (dom0 only) when there is no file yet. */
    public RegistryState load() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file());
        } catch (NoSuchFileException e) {
            LOG.log(System.Logger.Level.INFO, "no registry at {0}: starting with dom0 only", file());
            return RegistryState.initial();
        } catch (IOException e) {
            throw new RegistryException.StoreFailure("cannot read " + file() + ": " + e.getMessage(), e);
        }
        try {
            JsonNode tree = mapper.readTree(bytes);
            int schema = tree.path("schema").asInt(-1);
            if (schema < 1 || schema > StoreDocument.CURRENT_SCHEMA) {
                throw new RegistryException.StoreFailure(file() + " has schema " + schema
                        + "; this daemon reads schema 1.." + StoreDocument.CURRENT_SCHEMA, null);
            }
            if (schema == 1 && tree instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                StoreMigration.upgradeTree(o);
                return StoreMigration.afterLoad(fromDocument(mapper.treeToValue(o, StoreDocument.class)));
            }
            return fromDocument(mapper.treeToValue(tree, StoreDocument.class));
        } catch (IOException | IllegalArgumentException e) {
            throw new RegistryException.StoreFailure(file() + " is corrupt: " + e.getMessage(), e);
        }
    }

    /** Writes the state durably (temp, fsync, rename, directory fsync). Returns the bytes written. */
    public int write(RegistryState state) {
        Path tmp = dir.resolve(TEMP);
        try {
            byte[] bytes = mapper.writeValueAsBytes(toDocument(state));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("file system of " + dir + " cannot rename atomically", e);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
            return bytes.length;
        } catch (IOException e) {
            throw new RegistryException.StoreFailure("cannot write " + file() + ": " + e.getMessage(), e);
        }
    }

    static StoreDocument toDocument(RegistryState s) {
        List<StoreDocument.QubeDocument> qubes = new ArrayList<>();
        for (Qube q : s.qubes().values()) {
            List<StoreDocument.VolumeDocument> volumes = new ArrayList<>();
            for (Volume v : q.volumes().values()) {
                volumes.add(new StoreDocument.VolumeDocument(v.name(), v.pool(), v.sizeBytes(), v.snapOnStart(),
                        v.saveOnStop(), v.rw(), v.ephemeral(), v.source(), v.revision(), v.snapshotOf()));
            }
            qubes.add(new StoreDocument.QubeDocument(q.name(), q.klass().typeName(), q.domainId(),
                    q.uuid().toString(), q.properties(), q.features(), List.copyOf(q.tags()), volumes));
        }
        List<StoreDocument.PoolDocument> pools = new ArrayList<>();
        s.pools().values().forEach(p -> pools.add(new StoreDocument.PoolDocument(p.name(), p.driver())));
        Map<String, Long> recent = new TreeMap<>();
        s.recentDispids().forEach((k, v) -> recent.put(Integer.toString(k), v));
        return new StoreDocument(StoreDocument.CURRENT_SCHEMA, s.generation(), s.nextDomainId(), s.system(),
                recent, pools, qubes);
    }

    static RegistryState fromDocument(StoreDocument d) {
        TreeMap<String, Qube> qubes = new TreeMap<>();
        Set<Integer> ids = new HashSet<>();
        for (StoreDocument.QubeDocument q : d.qubes()) {
            TreeMap<String, Volume> volumes = new TreeMap<>();
            for (StoreDocument.VolumeDocument v : q.volumes()) {
                if (volumes.put(v.name(), new Volume(v.name(), v.pool(), v.size(), v.snapOnStart(), v.saveOnStop(),
                        v.rw(), v.ephemeral(), v.source(), v.revision(), v.snapshotOf())) != null) {
                    throw new IllegalArgumentException("volume '" + v.name() + "' of " + q.name() + " appears twice");
                }
            }
            Qube qube = new Qube(q.name(), QubeClass.ofTypeName(q.klass()), q.domainId(), UUID.fromString(q.uuid()),
                    new TreeMap<>(q.properties()), new TreeMap<>(q.features()), new TreeSet<>(q.tags()), volumes);
            if (qubes.put(q.name(), qube) != null) {
                throw new IllegalArgumentException("qube '" + q.name() + "' appears twice");
            }
            if (!ids.add(q.domainId())) {
                throw new IllegalArgumentException("domain id " + q.domainId() + " appears twice");
            }
        }
        if (!qubes.containsKey("dom0")) {
            throw new IllegalArgumentException("dom0 is missing");
        }
        TreeMap<Integer, Long> recent = new TreeMap<>();
        d.recentDispids().forEach((k, v) -> recent.put(Integer.parseInt(k), v));
        TreeMap<String, StoragePool> pools = new TreeMap<>();
        for (StoreDocument.PoolDocument p : d.pools()) {
            if (pools.put(p.name(), new StoragePool(p.name(), p.driver())) != null) {
                throw new IllegalArgumentException("pool '" + p.name() + "' appears twice");
            }
        }
        return new RegistryState(d.generation(), qubes, new TreeMap<>(d.system()), d.nextDomainId(), recent, pools);
    }

    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing store lock: {0}", e.toString());
        }
    }
}
