package io.siamstream.eval;

/**
 * An announced model version that cannot be used: its artifact is missing (possibly only not yet visible: the commit
 * of a completed checkpoint may lag, {@link #retryable}), truncated or unreadable, fails its checksum, or does not
 * fit the embedder's architecture or input. {@link #reason} is the dead-letter reason.
 */
public final class ModelVersionRejected extends Exception {

    private static final long serialVersionUID = 1L;

    /** The artifact is not (yet) at its uri. */
    public static final String MISSING = "artifact-missing";
    /** The weights file is shorter than its header says, or not safetensors. */
    public static final String UNREADABLE = "artifact-unreadable";
    /** The weights' sha256 is not the announced one. */
    public static final String CHECKSUM = "artifact-checksum";
    /** The weights do not fit the architecture, or the input is not the stream's. */
    public static final String ARCHITECTURE = "artifact-architecture";

    private final String reason;
    private final boolean retryable;

    public ModelVersionRejected(String reason, String detail, boolean retryable, Throwable cause) {
        super(detail, cause);
        this.reason = reason;
        this.retryable = retryable;
    }

    public String reason() {
        return reason;
    }

    public boolean retryable() {
        return retryable;
    }
}
