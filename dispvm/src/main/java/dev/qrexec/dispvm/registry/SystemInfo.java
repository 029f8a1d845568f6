package dev.qrexec.dispvm.registry;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A consistent view of every qube in the {@code internal.GetSystemInfo} format.
 *
 * @param version grows with every change of anything in the view; equal versions mean equal content
 * @param json    the document, {@code {"domains": {...}}}
 * @param tree    the same document as a read-only-by-convention Jackson tree (do not mutate)
 */
public record SystemInfo(long version, String json, JsonNode tree) {
}
