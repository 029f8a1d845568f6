package dev.qrexec.policy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Small system infos and policy files for the tests of the tools. */
public final class Fixtures {

    public static final String VAULT_UUID = "b3eb69d0-f9d9-4c3c-ad5c-454500303ea4";
    public static final String DVM_UUID = "f3e538bd-4427-4697-bed7-45ef3270df21";

    /** The system of the spec's daemon-level cases: work (running), vault (halted), default-dvm, disp123. */
    public static final String SYSTEM_JSON = """
            {"domains": {
              "dom0": {"type": "AdminVM", "tags": ["dom0-tag"], "template_for_dispvms": false,
                       "default_dispvm": "default-dvm", "power_state": "Running",
                       "uuid": "00000000-0000-0000-0000-000000000000", "icon": "adminvm-black"},
              "work": {"type": "AppVM", "tags": ["work"], "template_for_dispvms": false,
                       "default_dispvm": "default-dvm", "power_state": "Running", "guivm": "dom0",
                       "uuid": "c9024a97-9b15-46cc-8341-38d75d5d421b", "icon": "appvm-blue"},
              "vault": {"type": "AppVM", "tags": [], "template_for_dispvms": false,
                        "default_dispvm": null, "power_state": "Halted", "guivm": "dom0",
                        "uuid": "%s", "icon": "appvm-black"},
              "default-dvm": {"type": "AppVM", "tags": [], "template_for_dispvms": true,
                              "default_dispvm": "default-dvm", "power_state": "Halted", "guivm": "dom0",
                              "uuid": "%s", "icon": "appvm-red"},
              "disp123": {"type": "DispVM", "tags": [], "template_for_dispvms": false,
                          "default_dispvm": "default-dvm", "power_state": "Running", "guivm": "dom0",
                          "uuid": "7b1f6d0e-1111-4c3c-ad5c-454500303ea4", "icon": "dispvm-red"}
            }}
            """.formatted(VAULT_UUID, DVM_UUID);

    private Fixtures() {
    }

    /** Writes {@code text} to {@code file} through a temporary file and a rename, as editors and package managers do. */
    public static Path write(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.writeString(temporary, text);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
