package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;
import dev.qrexec.xen.QubeSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * bubblewrap runs as the qube's unprivileged uid, so it must be able to reach every directory it
 * binds. This checks it up front and says which directory to fix, instead of letting bwrap fail
 * with a bare "Can't find source path".
 */
final class HostPaths {

    private HostPaths() {
    }

    static void requireReachable(QubeSpec spec) throws IOException {
        for (Path path : new Path[] {spec.templateRoot().orElse(null), spec.privateStorage().orElse(null),
                spec.channelDir().orElse(null)}) {
            if (path != null) {
                requireTraversable(spec.name(), path.toAbsolutePath());
            }
        }
    }

    /** Every ancestor of {@code path} must be searchable by others (o+x). */
    static void requireTraversable(String qube, Path path) throws IOException {
        for (Path dir = path.getParent(); dir != null; dir = dir.getParent()) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
            if (!Files.isSymbolicLink(dir) && !perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new HypervisorException.OperationFailed("qube '" + qube + "': " + path
                        + " is not reachable by the qube's unprivileged uid because " + dir
                        + " is not searchable by others (chmod o+x " + dir + ")");
            }
        }
    }
}
