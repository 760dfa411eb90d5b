package io.siamstream.flink;

import ai.djl.Device;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import io.siamstream.train.EncodedLearnerState;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.SequenceBatcher;
import io.siamstream.train.StepResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training operator: keyed by model replica, it keeps each replica's {@link Learner} live in memory, trains it
 * on batches of view pairs, and emits per-step metrics (main output), frozen encoder copies every
 * {@code publishEvery} steps and at the end of a bounded input ({@link #MODEL_UPDATES}), and rejected pairs
 * ({@link DeadLetters#TAG}). It holds no learning logic: the learner does all of that.
 *
 * <p>State. The learner and the waiting pairs live on the heap while the job runs and are written to state only when
 * a checkpoint is taken ({@link #snapshotState}, which runs before the state backends are snapshotted, so they land in
 * the same checkpoint). The learner goes to operator state, one entry per tensor (see {@link OperatorLearnerState}):
 * the training thread copies each tensor once out of the engine, and the backend writes the bytes in the asynchronous
 * part of the checkpoint. The rest is keyed by replica: the waiting
 * pairs (the partial batches) in the ListState {@code pending-pairs}, by seq or in arrival order, beside them the
 * epoch of the last pair trained and the metadata of the last model update (so an update after a restore reports
 * its epoch, and {@code model extract} can rebuild the published artifact from a savepoint). Names and types are in
 * {@link TrainerState}. On restore all of it is rebuilt. The checkpoint holds exactly what per-record state updates would have held at the barrier,
 * without a RocksDB write and read of every ~6 KB pair: profiled, those writes (RocksDB's memtables under Flink's
 * managed memory budget flush and stall all the time) cost the training thread half as much time again as the steps.
 *
 * <p>Batching. With sequence batching, batch b holds the pairs with seq in [b x B, (b + 1) x B) and is trained, in seq
 * order, once every seq in it is resolved: by its pair, or by a skip marker for a record lost upstream (rejected by a
 * view, timed out in pairing, mismatched halves) or rejected here. The rule is the core's {@link SequenceBatcher}, the
 * same that the reference loop uses, so the result does not depend on arrival order or on failures. A batch that
 * lost pairs trains with the rest ({@code partialBatches}); with fewer than two left it is consumed without an update.
 * A seq that never resolves cannot stall training for ever: past {@code maxWaitingPairs} waiting pairs the oldest open
 * batch trains with what it has ({@code forcedBatches}), and its stragglers go to the dead letter as
 * {@code late-pair}. At the end of a bounded input the batches behind a lost seq train too. With arrival
 * batching (Kafka), every B arriving pairs form a batch in arrival order and skip markers are ignored.
 */
public class TrainingOperator extends AbstractStreamOperator<StepMetrics>
        implements OneInputStreamOperator<ViewPair, StepMetrics>, BoundedOneInput {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TrainingOperator.class);

    public static final OutputTag<ModelUpdate> MODEL_UPDATES =
            new OutputTag<>("model-updates", TypeInformation.of(ModelUpdate.class));
    public static final String STAGE = "train";
    /** RocksDB refuses values of 2 GiB and more; tensors are cut well below that. */
    public static final int DEFAULT_MAX_CHUNK_BYTES = 256 << 20;
    private static final int MAX_UNCONFIRMED = 2;


    private final LearnerConfig config;
    private final boolean sequenceBatching;
    private final int publishEvery;
    private final int maxChunkBytes;
    private final int maxWaitingPairs;
    /** The nice value background threads of the TaskManager get while a CPU learner trains; 0 leaves them alone. */
    private int backgroundNiceness;
    private transient boolean cpuPriorityRegistered;

    /** Sequence batching: each replica's open batches, checkpointed (pairs and skip markers) in {@code pendingState}. */
    private transient Map<Integer, SequenceBatcher<ViewPair>> batchers;
    /** Arrival batching: each replica's pairs of the batch being filled, checkpointed in {@code pendingState}. */
    private transient Map<Integer, List<ViewPair>> arrivals;
    /** Batches a restore closed (only if the batching settings changed), trained before the next record. */
    private transient List<Map.Entry<Integer, SequenceBatcher.Batch<ViewPair>>> closedOnRestore;
    private transient ListState<ViewPair> pendingState;
    private transient OperatorLearnerState learnerState;
    /** Where earlier versions kept the learner: read on restore, then cleared. */
    private transient KeyedLearnerState legacyLearnerState;
    /** Whether {@link #learnerState} still references the last checkpoint's arrays (dropped with the next record). */
    private transient boolean learnerStateHeld;
    /**
     * The learner snapshots of checkpoints not yet known to be finished, by checkpoint id: their asynchronous part
     * may still read the arrays. At most {@link #MAX_UNCONFIRMED}: past that the oldest is dropped, never reused, and
     * the garbage collector frees it once nothing reads it (notifications can be lost).
     */
    private transient TreeMap<Long, Map<Integer, EncodedLearnerState>> unconfirmed;
    /** A snapshot that no checkpoint can read any more: the next checkpoint copies the learners into its arrays. */
    private transient Map<Integer, EncodedLearnerState> reusable;
    /** Each replica's {@link #lastEpoch} and {@link #lastPublished}, written at a checkpoint. */
    private transient ValueState<Long> epochState;
    private transient ValueState<ModelUpdate> publishedState;
    /** The metadata of each replica's last model update: with the learner, what `model extract` rebuilds it from. */
    private transient Map<Integer, ModelUpdate> lastPublished;
    private transient Map<Integer, Learner> learners;
    /** Where this subtask's learners live: decided in open() from train.device and the TaskManager's GPUs. */
    private transient Device device;
    private transient boolean copyInput;
    private transient Map<Integer, Long> lastStepEnd;
    /** The epoch of the last pair each replica trained on (what model updates report). */
    private transient Map<Integer, Long> lastEpoch;
    private boolean publishHeads;
    private transient Counter steps;
    private transient Counter skippedSteps;
    private transient Counter deadLetters;
    private transient Counter skippedPairs;
    private transient Counter partialBatches;
    private transient Counter forcedBatches;
    private transient volatile StepMetrics latest;
    private transient volatile int nativeArrays;

    public TrainingOperator(LearnerConfig config, boolean sequenceBatching, int publishEvery, int maxChunkBytes) {
        this(config, sequenceBatching, publishEvery, maxChunkBytes, Integer.MAX_VALUE);
    }

    public TrainingOperator(LearnerConfig config, boolean sequenceBatching, int publishEvery, int maxChunkBytes,
                            int maxWaitingPairs) {
        if (publishEvery < 1) {
            throw new IllegalArgumentException("train.publish-every: " + publishEvery + " must be at least 1");
        }
        if (maxChunkBytes < 1024) {
            throw new IllegalArgumentException("state.max-chunk-bytes: " + maxChunkBytes + " must be at least 1024");
        }
        this.config = config;
        this.sequenceBatching = sequenceBatching;
        this.publishEvery = publishEvery;
        this.maxChunkBytes = maxChunkBytes;
        if (maxWaitingPairs < config.batchSize()) {
            throw new IllegalArgumentException("train.max-pending-pairs: " + maxWaitingPairs
                    + " must be at least the batch size " + config.batchSize());
        }
        this.maxWaitingPairs = maxWaitingPairs;
    }

    /**
     * While this operator trains on the CPU, the background threads of its TaskManager that compete with the learner
     * (its checkpoint writer, the JIT compilers, Flink's output flushers) run at nice {@code niceness} (1 to 19; 0,
     * the default, leaves priorities alone): see {@link LearnerCpuPriority}.
     */
    public TrainingOperator withBackgroundNiceness(int niceness) {
        if (niceness < 0 || niceness > LearnerCpuPriority.MAX_NICENESS) {
            throw new IllegalArgumentException("train.background-niceness: " + niceness + " must be 0 to "
                    + LearnerCpuPriority.MAX_NICENESS);
        }
        this.backgroundNiceness = niceness;
        return this;
    }

    @Override
    public void open() throws Exception {
        super.open();
        pendingState = getRuntimeContext().getListState(
                new ListStateDescriptor<>(TrainerState.PENDING_PAIRS, TypeInformation.of(ViewPair.class)));
        learnerState = TrainerState.learners(getOperatorStateBackend(), maxChunkBytes);
        legacyLearnerState = TrainerState.learner(getRuntimeContext(), maxChunkBytes);
        epochState = TrainerState.lastEpoch(getRuntimeContext());
        publishedState = TrainerState.lastPublished(getRuntimeContext());
        lastPublished = new HashMap<>();
        unconfirmed = new TreeMap<>();
        learners = new HashMap<>();
        batchers = new HashMap<>();
        arrivals = new HashMap<>();
        closedOnRestore = new ArrayList<>();
        lastStepEnd = new HashMap<>();
        lastEpoch = new HashMap<>();
        // pairs are kept beyond processElement: with object reuse the runtime may refill the instance it handed over
        copyInput = getExecutionConfig().isObjectReuseEnabled();
        var metrics = getRuntimeContext().getMetricGroup();
        steps = metrics.counter("steps");
        skippedSteps = metrics.counter("skippedSteps");
        deadLetters = metrics.counter(DeadLetters.METRIC);
        skippedPairs = metrics.counter("skippedPairs");
        partialBatches = metrics.counter("partialBatches");
        forcedBatches = metrics.counter("forcedBatches");
        metrics.gauge("nativeArrays", () -> nativeArrays);
        metrics.gauge("loss", () -> latest == null ? Double.NaN : latest.loss);
        // the three collapse indicators have distinct names: projectionStd (z), outputStd (p), and the evaluator's
        // featureStd; healthyStd is what the first two are for a healthy representation
        metrics.gauge("projectionStd", () -> latest == null ? Double.NaN : latest.projectionStd);
        metrics.gauge("outputStd", () -> latest == null ? Double.NaN : latest.outputStd);
        metrics.gauge("healthyStd", () -> latest == null ? Double.NaN : latest.healthyStd);
        metrics.gauge("lr", () -> latest == null ? Double.NaN : latest.lr);
        metrics.gauge("pairsPerSecond", () -> latest == null ? Double.NaN : latest.pairsPerSecond);
        metrics.gauge("step", () -> latest == null ? 0L : latest.step);
        // decided before any learner exists (and logged, and exposed as the gauges device / deviceIndex): the learners
        // restored below and those created with the first pair all go to this device
        device = ExternalGpus.choose(config.device(), getRuntimeContext(), metrics, LOG, "training");
        if (backgroundNiceness > 0 && !device.isGpu()) {
            cpuPriorityRegistered = LearnerCpuPriority.register(backgroundNiceness);
        }
        restoreLearners();
    }

    /** Rebuilds the learner and the waiting pairs of every replica key whose state this subtask restored. */
    private void restoreLearners() throws Exception {
        // a union list: every subtask sees every replica's learner and keeps those whose key group it owns
        int maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        Map<Integer, LearnerState> restoredLearners = learnerState.read(replica ->
                KeyGroupRangeAssignment.assignKeyToParallelOperator(replica, maxParallelism, parallelism) == subtask);
        // the next checkpoint writes this subtask's learners only: the others' must not be written again
        learnerState.clear();
        Set<Object> keys = new HashSet<>(restoredLearners.keySet());
        try (var stream = getKeyedStateBackend().getKeys(TrainerState.LEARNER_INDEX, VoidNamespace.INSTANCE)) {
            stream.forEach(keys::add);
        }
        try (var stream = getKeyedStateBackend().getKeys(TrainerState.PENDING_PAIRS, VoidNamespace.INSTANCE)) {
            stream.forEach(keys::add);
        }
        for (Object key : keys) {
            setCurrentKey(key);
            int replica = (Integer) key;
            LearnerState state = restoredLearners.get(replica);
            if (state == null) {
                state = legacyLearnerState.read();
                // from now on the learner is checkpointed in operator state only
                legacyLearnerState.clear();
            }
            if (state != null) {
                learners.put(replica, Learner.restore(config, state, device));
            }
            Long epoch = epochState.value();
            if (epoch != null) {
                lastEpoch.put(replica, epoch);
            }
            ModelUpdate published = publishedState.value();
            if (published != null) {
                lastPublished.put(replica, published);
            }
            Iterable<ViewPair> restored = pendingState.get();
            for (ViewPair pair : restored == null ? List.<ViewPair>of() : restored) {
                if (!sequenceBatching) {
                    arrivals(replica).add(pair);
                    continue;
                }
                List<SequenceBatcher.Batch<ViewPair>> closed = new ArrayList<>();
                if (pair.isSkipMarker()) {
                    batcher(replica).skip(pair.seq, closed);
                } else {
                    batcher(replica).offer(pair.seq, pair, closed);
                }
                closed.forEach(batch -> closedOnRestore.add(Map.entry(replica, batch)));
            }
        }
    }

    private SequenceBatcher<ViewPair> batcher(int replica) {
        return batchers.computeIfAbsent(replica, r -> {
            Learner learner = learner(r);
            return new SequenceBatcher<>(config.batchSize(), maxWaitingPairs, learner.steps() + learner.skippedSteps());
        });
    }

    private List<ViewPair> arrivals(int replica) {
        return arrivals.computeIfAbsent(replica, r -> new ArrayList<>(config.batchSize()));
    }

    private Learner learner(int replica) {
        return learners.computeIfAbsent(replica, r -> Learner.create(config, device));
    }

    @Override
    public void processElement(StreamRecord<ViewPair> element) throws Exception {
        releaseLearnerState();
        trainClosedOnRestore();
        ViewPair pair = element.getValue();
        int replica = (Integer) getCurrentKey();
        List<SequenceBatcher.Batch<ViewPair>> closed = new ArrayList<>();
        if (pair.isSkipMarker()) {
            if (sequenceBatching && pair.seq >= 0
                    && batcher(replica).skip(pair.seq, closed) == SequenceBatcher.Offer.ACCEPTED) {
                skippedPairs.inc();
            }
            trainAll(replica, closed);
            return;
        }
        if (pair.channels != config.imageChannels() || pair.height != config.imageSize()
                || pair.width != config.imageSize()) {
            reject(pair, DeadLetters.WRONG_SHAPE, "pair of " + pair.channels + "x" + pair.height + "x" + pair.width
                    + " views does not fit the model's " + config.imageChannels() + "x" + config.imageSize() + "x"
                    + config.imageSize() + " input");
            if (sequenceBatching && pair.seq >= 0
                    && batcher(replica).skip(pair.seq, closed) == SequenceBatcher.Offer.ACCEPTED) {
                skippedPairs.inc();
            }
            trainAll(replica, closed);
            return;
        }
        if (copyInput) {
            pair = new ViewPair(pair.id, pair.seq, pair.epoch, pair.channels, pair.height, pair.width, pair.view1,
                    pair.view2, pair.label);
        }
        if (!sequenceBatching) {
            List<ViewPair> waiting = arrivals(replica);
            waiting.add(pair);
            if (waiting.size() == config.batchSize()) {
                List<ViewPair> batch = new ArrayList<>(waiting);
                waiting.clear();
                train(replica, new SequenceBatcher.Batch<>(-1, batch, 0, false));
            }
            return;
        }
        long b = pair.seq / config.batchSize();
        switch (pair.seq < 0 ? SequenceBatcher.Offer.LATE : batcher(replica).offer(pair.seq, pair, closed)) {
            case LATE -> reject(pair, DeadLetters.LATE_PAIR, "seq " + pair.seq + " of batch " + b
                    + ", which has closed already (trained, or closed without it past the open-batch bound)");
            case DUPLICATE -> reject(pair, DeadLetters.DUPLICATE_PAIR, "seq " + pair.seq + " of batch " + b
                    + " arrived twice (or after its skip marker)");
            case ACCEPTED -> trainAll(replica, closed);
        }
    }

    private void trainClosedOnRestore() {
        if (!closedOnRestore.isEmpty()) {
            List<Map.Entry<Integer, SequenceBatcher.Batch<ViewPair>>> batches = new ArrayList<>(closedOnRestore);
            closedOnRestore.clear();
            batches.forEach(e -> train(e.getKey(), e.getValue()));
        }
    }

    private void trainAll(int replica, List<SequenceBatcher.Batch<ViewPair>> closed) {
        for (SequenceBatcher.Batch<ViewPair> batch : closed) {
            train(replica, batch);
        }
    }

    private void train(int replica, SequenceBatcher.Batch<ViewPair> batch) {
        Learner learner = learner(replica);
        long index = learner.steps() + learner.skippedSteps();
        List<ViewPair> pairs = batch.pairs();
        if (!pairs.isEmpty()) {
            lastEpoch.put(replica, pairs.get(pairs.size() - 1).epoch);
        }
        StepResult r = learner.step(pairs);
        nativeArrays = learner.managedArrayCount();
        if (pairs.size() < config.batchSize()) {
            partialBatches.inc();
        }
        if (batch.forced()) {
            forcedBatches.inc();
        }
        long now = System.nanoTime();
        Long previous = lastStepEnd.put(replica, now);
        StepMetrics m = new StepMetrics();
        m.replica = replica;
        m.batch = index;
        m.pairs = pairs.size();
        m.step = r.step();
        m.loss = r.loss();
        m.skipped = r.skipped();
        m.projectionStd = r.projectionStd();
        m.outputStd = r.outputStd();
        m.healthyStd = r.healthyStd();
        m.lr = r.lr();
        m.stepMillis = r.millis();
        double seconds = previous == null ? r.millis() / 1e3 : (now - previous) / 1e9;
        m.pairsPerSecond = pairs.size() / seconds;
        m.firstSeq = batch.index() >= 0 ? batch.index() * config.batchSize() : pairs.get(0).seq;
        latest = m;
        if (r.skipped()) {
            skippedSteps.inc();
        } else {
            steps.inc();
        }
        output.collect(new StreamRecord<>(m));
        if (!r.skipped() && r.step() % publishEvery == 0) {
            publish(replica, learner, m);
        }
    }

    private void publish(int replica, Learner learner, StepMetrics m) {
        ModelUpdate update = new ModelUpdate();
        update.replica = replica;
        update.version = learner.steps();
        update.step = learner.steps();
        update.epoch = lastEpoch.getOrDefault(replica, -1L);
        update.fingerprint = config.modelFingerprint();
        update.encoderState = LearnerStateCodec.encode(learner.encoderSnapshot());
        if (publishHeads) {
            update.headsState = LearnerStateCodec.encode(headsSnapshot(learner));
        }
        update.loss = m == null ? Double.NaN : m.loss;
        update.projectionStd = m == null ? Double.NaN : m.projectionStd;
        update.outputStd = m == null ? Double.NaN : m.outputStd;
        update.wallTimeMillis = System.currentTimeMillis();
        lastPublished.put(replica, update.withoutWeights());
        output.collect(MODEL_UPDATES, new StreamRecord<>(update));
    }

    /**
     * Also publish the projector and predictor with every model update ({@link ModelUpdate#headsState}), for
     * export. Returns this operator.
     */
    public TrainingOperator withHeads(boolean heads) {
        this.publishHeads = heads;
        return this;
    }

    /** The online network's parameters outside the encoder (projector, predictor), keyed param/ + network name. */
    private static LearnerState headsSnapshot(Learner learner) {
        LearnerState full = learner.snapshot();
        Map<String, io.siamstream.train.Tensor> heads = new java.util.LinkedHashMap<>();
        full.tensors().forEach((k, v) -> {
            if (k.startsWith(LearnerState.PARAM) && !k.startsWith(LearnerState.PARAM + Learner.ENCODER_PREFIX)) {
                heads.put(k, v);
            }
        });
        return new LearnerState(full.fingerprint(), full.step(), full.skippedSteps(), full.seed(), heads);
    }

    private void reject(ViewPair pair, String reason, String detail) {
        deadLetters.inc();
        output.collect(DeadLetters.TAG, new StreamRecord<>(new DeadLetter(STAGE, reason, detail, pair.id, pair.seq)));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // every replica with waiting pairs has a learner (it is created before a pair is kept)
        Map<Integer, EncodedLearnerState> encoded = new LinkedHashMap<>();
        Map<Integer, EncodedLearnerState> reuse = reusable == null ? Map.of() : reusable;
        reusable = null;
        for (Map.Entry<Integer, Learner> entry : learners.entrySet()) {
            setCurrentKey(entry.getKey());
            encoded.put(entry.getKey(), entry.getValue().snapshotEncoded(reuse.get(entry.getKey())));
            pendingState.update(waiting(entry.getKey()));
            epochState.update(lastEpoch.get(entry.getKey()));
            publishedState.update(lastPublished.get(entry.getKey()));
        }
        learnerState.write(encoded);
        learnerStateHeld = true;
        unconfirmed.put(context.getCheckpointId(), encoded);
        while (unconfirmed.size() > MAX_UNCONFIRMED) {
            unconfirmed.pollFirstEntry();
        }
    }

    /**
     * Checkpoint {@code checkpointId} is complete, so every asynchronous part up to it has finished or belongs to a
     * checkpoint that was subsumed and can never complete: their arrays may be written again.
     */
    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        var finished = unconfirmed.headMap(checkpointId, true);
        if (!finished.isEmpty()) {
            reusable = finished.get(finished.lastKey());
            finished.clear();
        }
    }

    /** An aborted checkpoint never completes: what its asynchronous part still writes is never read. */
    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        super.notifyCheckpointAborted(checkpointId);
        Map<Integer, EncodedLearnerState> aborted = unconfirmed.remove(checkpointId);
        if (aborted != null && reusable == null) {
            reusable = aborted;
        }
    }

    /**
     * The backend took its own list of the learner's arrays when the checkpoint was taken (in the same call as
     * {@link #snapshotState}): the operator's can go, so that a copy of the model is not kept on the heap between
     * checkpoints once the checkpoint has written it.
     */
    private void releaseLearnerState() {
        if (learnerStateHeld) {
            learnerState.clear();
            learnerStateHeld = false;
        }
    }

    /** What a replica has waiting: its open batches' pairs and skip markers by seq, or its arrivals in order. */
    private List<ViewPair> waiting(int replica) {
        if (!sequenceBatching) {
            return new ArrayList<>(arrivals.getOrDefault(replica, List.of()));
        }
        SequenceBatcher<ViewPair> batcher = batchers.get(replica);
        List<ViewPair> out = new ArrayList<>();
        for (SequenceBatcher.Waiting<ViewPair> w : batcher == null ? List.<SequenceBatcher.Waiting<ViewPair>>of()
                : batcher.waiting()) {
            out.add(w.pair() != null ? w.pair() : ViewPair.skipMarker(-1, w.seq(), -1, "restored"));
        }
        return out;
    }

    /**
     * At the end of a bounded input every replica trains the batches that wait behind a seq that will never come, and
     * publishes its final encoder (the pairs of an incomplete last batch stay unused).
     */
    @Override
    public void endInput() {
        trainClosedOnRestore();
        for (Map.Entry<Integer, SequenceBatcher<ViewPair>> entry : batchers.entrySet()) {
            List<SequenceBatcher.Batch<ViewPair>> closed = new ArrayList<>();
            entry.getValue().closeBlocked(closed);
            trainAll(entry.getKey(), closed);
        }
        for (Map.Entry<Integer, Learner> entry : learners.entrySet()) {
            if (entry.getValue().steps() % publishEvery != 0) {
                publish(entry.getKey(), entry.getValue(), latest);
            }
        }
    }

    /** The device this subtask's learners are (or will be) on; null before open() (tests). */
    Device device() {
        return device;
    }

    /** The live learner of a replica held by this subtask (tests). */
    Learner learnerOf(int replica) {
        return learners.get(replica);
    }

    /** The learner-state entries the last checkpoint stored for a replica (tests). */
    List<String> storedLearnerEntries(int replica) throws Exception {
        return learnerState.entries(replica);
    }

    /** The learner entries left in keyed state for a replica, where earlier versions kept them (tests). */
    List<String> legacyLearnerEntries(int replica) throws Exception {
        setCurrentKey(replica);
        return legacyLearnerState.storedEntries();
    }

    @Override
    public void close() throws Exception {
        if (cpuPriorityRegistered) {
            LearnerCpuPriority.unregister();
            cpuPriorityRegistered = false;
        }
        if (learners != null) {
            for (Learner learner : learners.values()) {
                learner.close();
            }
            learners.clear();
        }
        if (batchers != null) {
            batchers.clear();
            arrivals.clear();
        }
        super.close();
    }
}
