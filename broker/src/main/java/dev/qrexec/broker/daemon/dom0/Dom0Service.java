package dev.qrexec.broker.daemon.dom0;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A service served in dom0 by the broker. It runs on a service thread (it may block), reads the
 * caller's stdin and writes its stdout; the returned value is the exit status sent to the caller.
 * Writes block while the caller does not read, so a service never buffers without bound.
 */
@FunctionalInterface
public interface Dom0Service {

    int run(ServiceCall call, InputStream stdin, OutputStream stdout) throws Exception;
}
