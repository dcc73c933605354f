package dev.memlong.actors;

import ai.djl.Device;
import java.util.Locale;

/** Parses the device names of {@code memlong.actors.devices}. */
public final class DeviceNames {

    private DeviceNames() {}

    /** "cpu", "cpu:N" (a label, for several CPU workers), "gpu:N" or "cuda:N". */
    public static Device parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("cpu") || n.matches("cpu:\\d+")) {
            return Device.cpu();
        }
        if (n.matches("(gpu|cuda):\\d+")) {
            return Device.gpu(Integer.parseInt(n.substring(n.indexOf(':') + 1)));
        }
        throw new IllegalArgumentException("invalid configuration " + ActorSettings.ROOT + ".devices: unknown device \""
                + name + "\"; use \"cpu\", \"cpu:N\" or \"gpu:N\"");
    }
}
