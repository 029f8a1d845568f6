package dev.qrexec.dispvm.registry;

import java.util.Locale;

/** The class of a qube, spelled as {@code internal.GetSystemInfo} spells its {@code type}. */
public enum QubeClass {
    ADMIN_VM("AdminVM", "adminvm"),
    TEMPLATE_VM("TemplateVM", "templatevm"),
    APP_VM("AppVM", "appvm"),
    DISP_VM("DispVM", "dispvm"),
    STANDALONE_VM("StandaloneVM", "standalonevm"),
    REMOTE_VM("RemoteVM", "remotevm");

    private final String typeName;
    private final String iconPrefix;

    QubeClass(String typeName, String iconPrefix) {
        this.typeName = typeName;
        this.iconPrefix = iconPrefix;
    }

    /** The name used on the wire and in the store ({@code AppVM}, {@code DispVM}, ...). */
    public String typeName() {
        return typeName;
    }

    String iconPrefix() {
        return iconPrefix;
    }

    /** Parses a type name case-insensitively; the message lists the valid names. */
    public static QubeClass ofTypeName(String name) {
        for (QubeClass c : values()) {
            if (c.typeName.equalsIgnoreCase(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown qube class '" + name + "': expected one of "
                + "AdminVM, TemplateVM, AppVM, DispVM, StandaloneVM, RemoteVM");
    }

    @Override
    public String toString() {
        return typeName.toLowerCase(Locale.ROOT);
    }
}
