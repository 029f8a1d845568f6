package dev.qrexec.policy.system;

import java.util.Objects;
import java.util.Set;

/**
 * What the policy knows about one qube (one entry of {@code internal.GetSystemInfo}, spec 6).
 *
 * @param name               the qube's name
 * @param type               {@code AppVM}, {@code DispVM}, {@code AdminVM}, {@code RemoteVM}, ...
 * @param tags               its tags
 * @param templateForDispvms whether disposables may be based on it (missing = false)
 * @param defaultDispvm      the template of its {@code @dispvm}, or null
 * @param icon               icon name for the ask dialog, or null
 * @param guivm              the qube showing its dialogs and notifications, or null
 * @param hasGuivm           whether the entry has a {@code guivm} key at all (the reference looks it up
 *                           with {@code []} when notifying a denial, and crashes without it)
 * @param relayvm            for a RemoteVM: the local qube relaying to it, or null
 * @param transportRpc       for a RemoteVM: the relay's transport service, or null
 * @param powerState         {@code Running}, {@code Halted}, ... or null
 * @param uuid               its uuid (without {@code uuid:}), or null
 * @param internal           Python truthiness of the {@code internal} property: hidden from ask lists
 */
public record QubeInfo(String name, String type, Set<String> tags, boolean templateForDispvms,
                       String defaultDispvm, String icon, String guivm, boolean hasGuivm, String relayvm,
                       String transportRpc, String powerState, String uuid, boolean internal) {

    public QubeInfo {
        Objects.requireNonNull(name, "name");
        tags = Set.copyOf(tags);
    }

    public boolean isRunning() {
        return "Running".equals(powerState);
    }

    public boolean isRemote() {
        return "RemoteVM".equals(type);
    }
}
