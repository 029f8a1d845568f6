package dev.qrexec.dispvm.store;

import java.util.List;
import java.util.Map;

/**
 * The on-disk form of the registry (JSON). Field order and names are the file format; bump
 * {@link #CURRENT_SCHEMA} and add a migration in {@link RegistryStore} when they change.
 *
 * @param schema        format version of this document
 * @param generation    registry generation it holds
 * @param nextDomainId  where the domain-id search resumes
 * @param system        system properties
 * @param recentDispids dispid (decimal string) → wall-clock millis of its release (anti-reuse window)
 * @param qubes         every qube
 */
public record StoreDocument(int schema, long generation, int nextDomainId, Map<String, String> system,
                            Map<String, Long> recentDispids, List<QubeDocument> qubes) {

    public static final int CURRENT_SCHEMA = 1;

    /** One qube on disk; {@code klass} is the type name ({@code AppVM}, ...). */
    public record QubeDocument(String name, String klass, int domainId, String uuid,
                               Map<String, String> properties, Map<String, String> features, List<String> tags) {
    }
}
