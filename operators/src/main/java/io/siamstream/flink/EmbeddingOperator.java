package io.siamstream.flink;

import ai.djl.Device;
import io.siamstream.eval.EncoderVersion;
import io.siamstream.eval.EncoderVersionLoader;
import io.siamstream.eval.ImageEmbedder;
import io.siamstream.eval.ModelVersionRejected;
import io.siamstream.record.CatalogueMarker;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.Embedding;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.ModelUpdate;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds a second, live image stream (input 1) with the newest <em>committed</em> model version, announced on the
 * broadcast model-update stream (input 2). It never touches the trainer's live model: it loads each version's
 * artifact from the announcement's uri and checks its sha256 ({@link EncoderVersionLoader}).
 *
 * <p>Committed, not announced. An announcement reaches this operator before the checkpoint that commits its artifact
 * has completed (both sinks commit on that checkpoint). So an announcement is <em>pending</em> until a checkpoint
 * taken after its arrival completes ({@link #notifyCheckpointComplete}): only then is its version used, and the
 * embeddings made with it belong to a later checkpoint. An embedding therefore never names a version that a
 * recovery could undo. On a restore every version in the state counts as committed (the checkpoint that holds it
 * completed); its files may appear a moment later (the committer re-commits after a restore), so a missing artifact
 * is retried for {@code artifactTimeout} before it is rejected.
 *
 * <p>Ahead of its checkpoint. With unaligned checkpoints a barrier can overtake an announcement in flight, so the
 * checkpoint that covers the announcement here is often the one after the checkpoint that committed the artifact. A
 * version folder exists only once the sink has committed it, so after every completed checkpoint, for a short while
 * ({@value #AHEAD_MILLIS} ms), the newest pending version is also tried directly: if its artifact loads, it is
 * committed and is used at once, one checkpoint interval earlier. Anything else leaves it to the rule above.
 *
 * <p>State. Broadcast state {@code model-versions} holds version metadata only (the announcement without weights):
 * the version in use and the pending ones; a restore reloads the artifact. Operator list state {@code
 * waiting-images} holds images not yet embedded: those that arrived before the first committed version (at most
 * {@code maxWaiting}; past that an image is dead-lettered as {@value #NO_MODEL}), and none else, as a batch is
 * emitted before every checkpoint barrier. With refresh on, {@code catalogue} holds every image of this subtask's
 * share of a bounded catalogue.
 *
 * <p>Catalogue refresh ({@code refresh}): every version this operator switches to re-embeds the whole catalogue;
 * once the catalogue input has ended and all of it is embedded with a version, a {@link CatalogueMarker} (version,
 * count, part, parts) goes to {@link #MARKERS}. A version that is superseded before it loads gets no set.
 *
 * <p>Batches of {@code batchSize} images, or fewer after {@code maxDelayMillis}, at a checkpoint barrier, at the end
 * of input. Bad input: images without pixels or of another shape, and input the source rejected, go to
 * {@link DeadLetters#TAG}; a version whose artifact is missing past the timeout, unreadable, fails its checksum or
 * does not fit is dead-lettered (stage {@value #STAGE}, id = the version) and the previous version stays in use.
 * Metrics: counters {@code embeddings}, {@code rejectedVersions}, {@code skippedVersions}, {@code deadLetters};
 * gauges {@code embeddingVersion}, {@code waitingImages}, and the device gauges.
 */
public class EmbeddingOperator extends AbstractStreamOperator<Embedding>
        implements TwoInputStreamOperator<ImageRecord, ModelUpdate, Embedding>, BoundedMultiInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingOperator.class);

    /** The dead-letter stage of this operator. */
    public static final String STAGE = "embed";
    /** An image that could not wait for the first committed version (the bound, or the end of the job). */
    public static final String NO_MODEL = "no-committed-model";
    /** How often a missing artifact is looked for again. */
    static final long RETRY_MILLIS = 200;
    /** How long after a completed checkpoint the newest pending version's committed folder is looked for. */
    static final long AHEAD_MILLIS = 2_000;

    /** Where catalogue markers go. */
    public static final OutputTag<CatalogueMarker> MARKERS =
            new OutputTag<>("catalogue-markers", TypeInformation.of(CatalogueMarker.class));

    /**
     * @param channels        the images' channels (every image must have this shape)
     * @param size            the images' height and width
     * @param batchSize       images per forward pass
     * @param maxWaiting      images that may wait for the first committed version
     * @param refresh         re-embed the whole (bounded) catalogue with every new version, with a marker
     * @param maxDelayMillis  the longest an image waits for its batch to fill
     * @param artifactTimeoutMillis how long a committed version's missing artifact is looked for
     * @param deviceOption    {@code train.device} (auto, cpu, gpu, gpu:N), decided by the trainer's rule
     */
    public record Settings(int channels, int size, int batchSize, int maxWaiting, boolean refresh, long maxDelayMillis,
                           long artifactTimeoutMillis, String deviceOption) implements Serializable {
        public Settings {
            if (batchSize < 1 || maxWaiting < 0 || maxDelayMillis < 0 || artifactTimeoutMillis < 0) {
                throw new IllegalArgumentException("embedding: batch size " + batchSize + ", max waiting " + maxWaiting
                        + ", max delay " + maxDelayMillis + " ms, artifact timeout " + artifactTimeoutMillis
                        + " ms: the batch size must be positive, the others not negative");
            }
        }
    }

    private final Settings settings;
    private final EncoderVersionLoader loader;

    private transient Device device;
    private transient ImageEmbedder embedder;
    /** Versions in use or pending, by version; for each the checkpoint that covers its arrival (MAX: none yet). */
    private transient TreeMap<Long, ModelUpdate> versions;
    private transient TreeMap<Long, Long> coveredBy;
    /** The version being loaded (its artifact was missing so far), and since when. */
    private transient ModelUpdate loading;
    private transient long loadingSince;
    private transient boolean retryScheduled;
    private transient boolean aheadScheduled;
    private transient long aheadUntil;
    private transient List<ImageRecord> buffer;
    private transient List<ImageRecord> catalogue;
    private transient boolean catalogueEnded;
    private transient boolean flushScheduled;
    /** Both inputs have ended and finish() ran: the chained sinks take no more records. */
    private transient boolean finished;

    private transient BroadcastState<Long, ModelUpdate> versionState;
    private transient ListState<ImageRecord> waitingState;
    private transient ListState<ImageRecord> catalogueState;
    private transient ListState<Boolean> catalogueEndedState;
    private transient ListState<Long> inUseState;
    private transient boolean restored;
    /** The version in use at the restored checkpoint (-1: none): its embeddings, and its set, are out already. */
    private transient long restoredInUse;

    private transient Counter embeddings;
    private transient Counter rejectedVersions;
    private transient Counter skippedVersions;
    private transient Counter deadLetters;

    public EmbeddingOperator(Settings settings, EncoderVersionLoader loader) {
        this.settings = settings;
        this.loader = loader;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        var store = context.getOperatorStateStore();
        versionState = store.getBroadcastState(new MapStateDescriptor<>("model-versions", Types.LONG,
                TypeInformation.of(ModelUpdate.class)));
        waitingState = store.getListState(new ListStateDescriptor<>("waiting-images", TypeInformation.of(ImageRecord.class)));
        catalogueState = store.getListState(new ListStateDescriptor<>("catalogue", TypeInformation.of(ImageRecord.class)));
        catalogueEndedState = store.getListState(new ListStateDescriptor<>("catalogue-ended", Types.BOOLEAN));
        inUseState = store.getListState(new ListStateDescriptor<>("version-in-use", Types.LONG));
        restoredInUse = -1;
        versions = new TreeMap<>();
        coveredBy = new TreeMap<>();
        buffer = new ArrayList<>();
        catalogue = new ArrayList<>();
        restored = context.isRestored();
        if (restored) {
            for (Map.Entry<Long, ModelUpdate> e : versionState.entries()) {
                versions.put(e.getKey(), e.getValue());
                coveredBy.put(e.getKey(), Long.MIN_VALUE); // held by a completed checkpoint: committed
            }
            waitingState.get().forEach(buffer::add);
            catalogueState.get().forEach(catalogue::add);
            for (Boolean ended : catalogueEndedState.get()) {
                catalogueEnded |= ended;
            }
            for (Long v : inUseState.get()) {
                restoredInUse = Math.max(restoredInUse, v);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        var metrics = getRuntimeContext().getMetricGroup();
        embeddings = metrics.counter("embeddings");
        rejectedVersions = metrics.counter("rejectedVersions");
        skippedVersions = metrics.counter("skippedVersions");
        deadLetters = metrics.counter(DeadLetters.METRIC);
        metrics.gauge("embeddingVersion", () -> embedder == null ? -1L : embedder.version());
        metrics.gauge("waitingImages", () -> embedder == null ? buffer.size() : 0);
        device = ExternalGpus.choose(settings.deviceOption(), getRuntimeContext(), metrics, LOG, "embedding");
        if (restored && !versions.isEmpty()) {
            LOG.info("embedding: restored versions {}, {} in use", versions.keySet(), restoredInUse);
            resume();
            switchToNewestCommitted();
        }
    }

    // ---- input 1: images ----

    @Override
    public void processElement1(StreamRecord<ImageRecord> element) throws Exception {
        ImageRecord r = element.getValue();
        DeadLetter problem = check(r);
        if (problem != null) {
            deadLetter(problem);
            return;
        }
        // the deserializer may reuse records (object reuse): keep our own
        ImageRecord image = new ImageRecord(r.id, r.seq, r.epoch, r.channels, r.height, r.width, r.pixels, r.label);
        if (settings.refresh()) {
            catalogue.add(image);
        }
        if (embedder == null && !settings.refresh() && buffer.size() >= settings.maxWaiting()) {
            deadLetter(new DeadLetter(STAGE, NO_MODEL, "no committed model version yet and " + settings.maxWaiting()
                    + " images wait already (siamstream.embed.max-waiting)", image.id, image.seq));
            return;
        }
        buffer.add(image);
        if (embedder != null) {
            if (buffer.size() >= settings.batchSize()) {
                flush();
            } else {
                scheduleFlush();
            }
        }
    }

    private DeadLetter check(ImageRecord r) {
        if (r.error != null) {
            return DeadLetters.sourceRejected(r);
        }
        DeadLetter malformed = DeadLetters.malformed(STAGE, r);
        if (malformed != null) {
            return malformed;
        }
        if (r.channels != settings.channels() || r.height != settings.size() || r.width != settings.size()) {
            return new DeadLetter(STAGE, DeadLetters.WRONG_SHAPE, r.channels + "x" + r.height + "x" + r.width
                    + ", the model takes " + settings.channels() + "x" + settings.size() + "x" + settings.size(),
                    r.id, r.seq);
        }
        return null;
    }

    private void scheduleFlush() {
        if (flushScheduled || buffer.isEmpty()) {
            return;
        }
        flushScheduled = true;
        var time = getProcessingTimeService();
        time.registerTimer(time.getCurrentProcessingTime() + settings.maxDelayMillis(), t -> {
            flushScheduled = false;
            flush();
        });
    }

    /** Embeds what waits in the buffer with the version in use, in batches. */
    private void flush() {
        if (embedder == null || finished) {
            return;
        }
        for (int from = 0; from < buffer.size(); from += settings.batchSize()) {
            emit(buffer.subList(from, Math.min(buffer.size(), from + settings.batchSize())));
        }
        buffer.clear();
    }

    private void emit(List<ImageRecord> batch) {
        List<byte[]> pixels = new ArrayList<>(batch.size());
        for (ImageRecord r : batch) {
            pixels.add(r.pixels);
        }
        float[][] vectors = embedder.embed(pixels);
        long version = embedder.version();
        for (int i = 0; i < vectors.length; i++) {
            output.collect(new StreamRecord<>(new Embedding(batch.get(i).id, version, vectors[i])));
        }
        embeddings.inc(vectors.length);
    }

    // ---- input 2: announcements of model versions ----

    @Override
    public void processElement2(StreamRecord<ModelUpdate> element) {
        ModelUpdate u = element.getValue();
        long newest = versions.isEmpty() ? -1 : versions.lastKey();
        if (u.version <= newest) {
            return; // a version seen before (a replayed announcement) or older than one known
        }
        if (u.uri == null || u.sha256 == null) {
            reject(u, new ModelVersionRejected(ModelVersionRejected.MISSING,
                    "the announcement names no committed artifact (uri, sha256): is model export on?", false, null));
            return;
        }
        versions.put(u.version, u.withoutWeights());
        coveredBy.put(u.version, Long.MAX_VALUE);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush(); // a batch in the making belongs to this checkpoint, not to the state
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        coveredBy.replaceAll((version, checkpoint) -> checkpoint == Long.MAX_VALUE ? context.getCheckpointId() : checkpoint);
        versionState.clear();
        versionState.putAll(versions);
        waitingState.update(buffer);
        catalogueState.update(catalogue);
        catalogueEndedState.update(List.of(catalogueEnded));
        inUseState.update(embedder == null ? List.of() : List.of(embedder.version()));
    }

    /**
     * After a restore: takes the version that was in use at the checkpoint back into use without embedding anything
     * again (what it embedded before the checkpoint, its catalogue set included, is committed). Where its artifact
     * is gone (retention), the newest committed version takes over instead, as a new version.
     */
    private void resume() {
        ModelUpdate inUse = versions.get(restoredInUse);
        if (inUse == null) {
            return;
        }
        try {
            EncoderVersion loaded = loader.load(inUse);
            embedder = new ImageEmbedder(loaded, device);
        } catch (ModelVersionRejected | RuntimeException e) {
            LOG.warn("embedding: version {} in use before the restore cannot be loaded again ({}); a newer one takes"
                    + " over", restoredInUse, e.getMessage());
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        boolean committed = false;
        for (Map.Entry<Long, Long> e : coveredBy.entrySet()) {
            if (e.getValue() != Long.MIN_VALUE && e.getValue() <= checkpointId) {
                e.setValue(Long.MIN_VALUE);
                committed = true;
            }
        }
        if (committed) {
            switchToNewestCommitted();
        }
        aheadUntil = getProcessingTimeService().getCurrentProcessingTime() + AHEAD_MILLIS;
        tryAhead();
    }

    /** The newest pending version, used if its committed folder is there already (see the class comment). */
    private void tryAhead() {
        Map.Entry<Long, Long> newest = coveredBy.lastEntry();
        long inUse = embedder == null ? -1 : embedder.version();
        if (finished || loading != null || newest == null || newest.getValue() == Long.MIN_VALUE
                || newest.getKey() <= inUse) {
            return;
        }
        ModelUpdate target = versions.get(newest.getKey());
        try {
            EncoderVersion loaded = loader.load(target);
            if (loaded.channels() == settings.channels() && loaded.size() == settings.size()) {
                ImageEmbedder next = new ImageEmbedder(loaded, device);
                LOG.info("embedding: version {} is committed ahead of the checkpoint that covers its announcement",
                        target.version);
                coveredBy.put(target.version, Long.MIN_VALUE);
                use(next);
            }
            return;
        } catch (ModelVersionRejected e) {
            if (!e.retryable()) {
                return;   // the regular path rejects it with its reason once it is covered: no need to read it again
            }
        } catch (RuntimeException e) {
            return;       // likewise
        }
        // not committed yet: look again shortly
        var time = getProcessingTimeService();
        if (!aheadScheduled && time.getCurrentProcessingTime() + RETRY_MILLIS <= aheadUntil) {
            aheadScheduled = true;
            time.registerTimer(time.getCurrentProcessingTime() + RETRY_MILLIS, t -> {
                aheadScheduled = false;
                tryAhead();
            });
        }
    }

    /** Loads the newest committed version newer than the one in use; on rejection keeps the previous one. */
    private void switchToNewestCommitted() {
        if (finished) {
            // the checkpoints after the end of input commit the last versions, but nothing may be emitted any more
            return;
        }
        long inUse = embedder == null ? -1 : embedder.version();
        while (true) {
            ModelUpdate target = null;
            for (Map.Entry<Long, Long> e : coveredBy.descendingMap().entrySet()) {
                if (e.getValue() == Long.MIN_VALUE && e.getKey() > inUse) {
                    target = versions.get(e.getKey());
                    break;
                }
            }
            if (target == null) {
                return;
            }
            if (loading == null || loading.version != target.version) {
                loading = target;
                loadingSince = getProcessingTimeService().getCurrentProcessingTime();
            }
            try {
                EncoderVersion loaded = loader.load(target);
                if (loaded.channels() != settings.channels() || loaded.size() != settings.size()) {
                    throw new ModelVersionRejected(ModelVersionRejected.ARCHITECTURE, "the model takes "
                            + loaded.channels() + "x" + loaded.size() + "x" + loaded.size() + " images, the stream "
                            + settings.channels() + "x" + settings.size() + "x" + settings.size(), false, null);
                }
                ImageEmbedder next;
                try {
                    next = new ImageEmbedder(loaded, device);
                } catch (RuntimeException e) {
                    throw new ModelVersionRejected(ModelVersionRejected.ARCHITECTURE, String.valueOf(e.getMessage()),
                            false, e);
                }
                loading = null;
                use(next);
                return;
            } catch (ModelVersionRejected e) {
                long now = getProcessingTimeService().getCurrentProcessingTime();
                if (e.retryable() && now - loadingSince < settings.artifactTimeoutMillis()) {
                    scheduleRetry();
                    return;
                }
                loading = null;
                reject(target, e);
                // and try the next older committed one that is newer than the version in use
            }
        }
    }

    private void scheduleRetry() {
        if (retryScheduled) {
            return;
        }
        retryScheduled = true;
        var time = getProcessingTimeService();
        time.registerTimer(time.getCurrentProcessingTime() + RETRY_MILLIS, t -> {
            retryScheduled = false;
            switchToNewestCommitted();
        });
    }

    private void use(ImageEmbedder next) {
        long previous = embedder == null ? -1 : embedder.version();
        if (embedder != null) {
            embedder.close();
        }
        embedder = next;
        LOG.info("embedding with model version {} (was {})", next.version(), previous);
        // versions older than this one are done with: skipped if never used
        for (Long v : new ArrayList<>(versions.headMap(next.version(), false).keySet())) {
            if (v != previous) {
                skippedVersions.inc();
            }
            versions.remove(v);
            coveredBy.remove(v);
        }
        if (settings.refresh()) {
            buffer.clear(); // every catalogue image, waiting or embedded before, is embedded again now
            for (int from = 0; from < catalogue.size(); from += settings.batchSize()) {
                emit(catalogue.subList(from, Math.min(catalogue.size(), from + settings.batchSize())));
            }
            if (catalogueEnded) {
                marker();
            }
        } else {
            flush();
        }
    }

    private void marker() {
        var task = getRuntimeContext().getTaskInfo();
        output.collect(MARKERS, new StreamRecord<>(new CatalogueMarker(embedder.version(), catalogue.size(),
                task.getIndexOfThisSubtask(), task.getNumberOfParallelSubtasks())));
    }

    private void reject(ModelUpdate update, ModelVersionRejected e) {
        rejectedVersions.inc();
        versions.remove(update.version);
        coveredBy.remove(update.version);
        LOG.warn("embedding: model version {} rejected ({}): {}; version {} stays in use", update.version, e.reason(),
                e.getMessage(), embedder == null ? "none" : embedder.version());
        deadLetter(new DeadLetter(STAGE, e.reason(), "model version " + update.version + " at " + update.uri + ": "
                + e.getMessage(), update.version, -1));
    }

    private void deadLetter(DeadLetter letter) {
        deadLetters.inc();
        output.collect(DeadLetters.TAG, new StreamRecord<>(letter));
    }

    // ---- end of input ----

    @Override
    public void endInput(int inputId) {
        if (inputId != 1) {
            return;
        }
        flush();
        if (settings.refresh() && !catalogueEnded) {
            catalogueEnded = true;
            if (embedder != null) {
                marker();
            }
        }
    }

    @Override
    public void finish() throws Exception {
        flush();
        if (embedder == null) {
            // the job ends (its training input did) before any version was committed: nothing will embed these
            for (ImageRecord r : buffer) {
                deadLetter(new DeadLetter(STAGE, NO_MODEL, "the job ended before a model version was committed",
                        r.id, r.seq));
            }
            buffer.clear();
        }
        finished = true;
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (embedder != null) {
            embedder.close();
            embedder = null;
        }
        super.close();
    }
}
