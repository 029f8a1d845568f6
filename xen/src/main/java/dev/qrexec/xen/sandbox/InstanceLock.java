package dev.qrexec.xen.sandbox;

import dev.qrexec.xen.HypervisorException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One backend per instance at a time: a second daemon opening the same instance would sweep the
 * first one's qubes mid-start. The lock is a POSIX record lock on {@code <stateDir>/.lock}, which
 * the kernel drops when the holder dies, so a crashed daemon never blocks its successor.
 */
final class InstanceLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private InstanceLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static InstanceLock acquire(Path stateDir, String instance) throws IOException {
        Path file = stateDir.resolve(".lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very JVM
        }
        if (lock == null) {
            channel.close();
            throw new HypervisorException.BackendUnavailable("sandbox instance '" + instance
                    + "' is already open by another backend (lock " + file + "): one daemon per instance");
        }
        return new InstanceLock(channel, lock);
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // closing releases the lock anyway; nothing else to do
        }
    }
}
