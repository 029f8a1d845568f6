package dev.qrexec.xen.transport;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VchanAddressTest {

    private static final Path DIR = Path.of("/run/qrexec/ch/work");

    @Test
    void namesSocketsAsLibvchanSocketDoes() {
        assertEquals(Path.of("/run/qrexec/ch/work/vchan.42.0.512.sock"), new VchanAddress(DIR, 42, 0, 512).path());
        // The agent of domain 42 listens for dom0; dom0 connects to the same file.
        assertEquals(VchanAddress.listening(DIR, 42, 0, 512), VchanAddress.connecting(DIR, 0, 42, 512));
        assertEquals(new VchanAddress(DIR, 0, 7, 513), VchanAddress.listening(DIR, 0, 7, 513));
    }

    @Test
    void parsesWhatItNames() {
        VchanAddress address = new VchanAddress(DIR, 3, 17, 1024);
        assertEquals(address, VchanAddress.parse(address.path()));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> VchanAddress.parse(DIR.resolve("vchan.3.x.1024.sock")));
        assertTrue(error.getMessage().startsWith("not a vchan socket name"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> VchanAddress.parse(DIR.resolve("vchan.99999999999.1.2.sock")));
    }

    @Test
    void refusesAPathTooLongForAUnixSocket() {
        Path deep = Path.of("/tmp/" + "d".repeat(90));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new VchanAddress(deep, 42, 0, 512));
        assertEquals("socket path " + deep + "/vchan.42.0.512.sock is 115 bytes; a Unix socket path may have"
                + " at most 106: use a shorter channel directory", error.getMessage());
    }

    @Test
    void acceptsAPathOfExactlyTheLimit() {
        String name = "/vchan.42.0.512.sock";
        Path dir = Path.of("/" + "d".repeat(VchanAddress.MAX_PATH_BYTES - name.length() - 1));
        assertEquals(106, new VchanAddress(dir, 42, 0, 512).path().toString().length());
        Path oneMore = Path.of(dir + "x");
        assertThrows(IllegalArgumentException.class, () -> new VchanAddress(oneMore, 42, 0, 512));
    }

    @Test
    void refusesNonsense() {
        assertEquals("port must not be negative, was -1",
                assertThrows(IllegalArgumentException.class, () -> new VchanAddress(DIR, 1, 0, -1)).getMessage());
        assertEquals("a vchan joins two domains; server and client are both 4",
                assertThrows(IllegalArgumentException.class, () -> new VchanAddress(DIR, 4, 4, 512)).getMessage());
        assertEquals("server domain must not be negative, was -2",
                assertThrows(IllegalArgumentException.class, () -> new VchanAddress(DIR, -2, 0, 512)).getMessage());
    }
}
