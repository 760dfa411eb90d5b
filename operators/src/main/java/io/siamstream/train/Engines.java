package io.siamstream.train;

import ai.djl.engine.Engine;

/**
 * The PyTorch engine, started offline: DJL's natives come from the pytorch-native-cpu jar and nothing is downloaded
 * or reported at run time. Callers get the engine only through here, so the switches are set before it starts.
 */
public final class Engines {

    private Engines() {}

    public static synchronized Engine pyTorch() {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        return Engine.getEngine("PyTorch");
    }
}
