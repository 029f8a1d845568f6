package dev.qrexec.dispvm.store;

import java.util.List;
import java.util.Map;

/**
 * The on-disk form of the registry (JSON). Field order and names are the file format; bump
 * {@link #CURRENT_SCHEMA} and add a migration ({@link StoreMigration}) when they change.
 *
 * <p>Schema history: 1 had no pools and no volumes (the outdated check used a digest feature);
 * 2 adds {@code pools} and each qube's {@code volumes}.
 *
 * @param schema        format version of this document
 * @param generation    registry generation it holds
 * @param nextDomainId  where the domain-id search resumes
 * @param system        system properties
 * @param recentDispids dispid (decimal string) → wall-clock millis of its release (anti-reuse window)
 * @param pools         storage pools
 * @param qubes         every qube
 */
public record StoreDocument(int schema, long generation, int nextDomainId, Map<String, String> system,
                            Map<String, Long> recentDispids, List<PoolDocument> pools, List<QubeDocument> qubes) {

    public static final int CURRENT_SCHEMA = 2;

    /** One qube on disk; {@code klass} is the type name ({@code AppVM}, ...). */
    public record QubeDocument(String name, String klass, int domainId, String uuid,
                               Map<String, String> properties, Map<String, String> features, List<String> tags,
                               List<VolumeDocument> volumes) {
    }

    /** One storage pool. */
    public record PoolDocument(String name, String driver) {
    }

    /** One volume; {@code snapshotOf} is {@code qube:volume@revision} or "". */
    public record VolumeDocument(String name, String pool, long size, boolean snapOnStart, boolean saveOnStop,
                                 boolean rw, boolean ephemeral, String source, long revision, String snapshotOf) {
    }
}
