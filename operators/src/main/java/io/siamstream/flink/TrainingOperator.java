package io.siamstream.flink;

import io.siamstream.record.DeadLetter;
import io.siamstream.record.ModelUpdate;
import io.siamstream.record.StepMetrics;
import io.siamstream.record.ViewPair;
import io.siamstream.train.Learner;
import io.siamstream.train.LearnerConfig;
import io.siamstream.train.LearnerState;
import io.siamstream.train.LearnerStateCodec;
import io.siamstream.train.StepResult;
import io.siamstream.train.ViewBatch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * The training operator: keyed by model replica, it keeps each replica's {@link Learner} live in memory, trains it
 * on batches of view pairs, and emits per-step metrics (main output), frozen encoder copies every
 * {@code publishEvery} steps and at the end of a bounded input ({@link #MODEL_UPDATES}), and rejected pairs
 * ({@link DeadLetters#TAG}). It holds no learning logic: the learner does all of that.
 *
 * <p>State. The learner and the waiting pairs live on the heap while the job runs and are written to keyed state
 * only when a checkpoint is taken ({@link #snapshotState}, which runs before the keyed backend is snapshotted, so
 * they land in the same checkpoint): the learner one entry per tensor (see {@link KeyedLearnerState}), the waiting
 * pairs (the partial batches) in the ListState {@code pending-pairs}, by seq or in arrival order. On restore both
 * are rebuilt from it. The checkpoint holds exactly what per-record state updates would have held at the barrier,
 * without a RocksDB write and read of every ~6 KB pair: profiled, those writes (RocksDB's memtables under Flink's
 * managed memory budget flush and stall all the time) cost the training thread half as much time again as the steps.
 *
 * <p>Batching. With sequence batching, batch b holds exactly the pairs with seq in [b x B, (b + 1) x B) and is
 * trained, in seq order, once all have arrived: the result does not depend on arrival order or on failures. With
 * arrival batching (Kafka), every B arriving pairs form a batch in arrival order.
 */
public class TrainingOperator extends AbstractStreamOperator<StepMetrics>
        implements OneInputStreamOperator<ViewPair, StepMetrics>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<ModelUpdate> MODEL_UPDATES =
            new OutputTag<>("model-updates", TypeInformation.of(ModelUpdate.class));
    public static final String STAGE = "train";
    /** RocksDB refuses values of 2 GiB and more; tensors are cut well below that. */
    public static final int DEFAULT_MAX_CHUNK_BYTES = 256 << 20;

    private final LearnerConfig config;
    private final boolean sequenceBatching;
    private final int publishEvery;
    private final int maxChunkBytes;

    /** The waiting pairs of every replica, checkpointed in {@code pendingState}. */
    private transient Map<Integer, Pending> pending;
    private transient ListState<ViewPair> pendingState;
    private transient KeyedLearnerState learnerState;
    private transient Map<Integer, Learner> learners;
    private transient boolean copyInput;
    private transient Map<Integer, Long> lastStepEnd;
    private transient Counter steps;
    private transient Counter skippedSteps;
    private transient Counter deadLetters;
    private transient volatile StepMetrics latest;

    public TrainingOperator(LearnerConfig config, boolean sequenceBatching, int publishEvery, int maxChunkBytes) {
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
    }

    @Override
    public void open() throws Exception {
        super.open();
        pendingState = getRuntimeContext().getListState(
                new ListStateDescriptor<>("pending-pairs", TypeInformation.of(ViewPair.class)));
        learnerState = new KeyedLearnerState(
                getRuntimeContext().getMapState(new MapStateDescriptor<>("learner-tensors", Types.STRING,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                getRuntimeContext().getState(new ValueStateDescriptor<>("learner-index", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                maxChunkBytes);
        learners = new HashMap<>();
        pending = new HashMap<>();
        lastStepEnd = new HashMap<>();
        // pairs are kept beyond processElement: with object reuse the runtime may refill the instance it handed over
        copyInput = getExecutionConfig().isObjectReuseEnabled();
        var metrics = getRuntimeContext().getMetricGroup();
        steps = metrics.counter("steps");
        skippedSteps = metrics.counter("skippedSteps");
        deadLetters = metrics.counter(DeadLetters.METRIC);
        metrics.gauge("loss", () -> latest == null ? Double.NaN : latest.loss);
        metrics.gauge("collapse", () -> latest == null ? Double.NaN : latest.collapse);
        metrics.gauge("lr", () -> latest == null ? Double.NaN : latest.lr);
        metrics.gauge("pairsPerSecond", () -> latest == null ? Double.NaN : latest.pairsPerSecond);
        metrics.gauge("step", () -> latest == null ? 0L : latest.step);
        restoreLearners();
    }

    /** Rebuilds the learner and the waiting pairs of every replica key whose state this subtask restored. */
    private void restoreLearners() throws Exception {
        Set<Object> keys = new HashSet<>();
        try (var stream = getKeyedStateBackend().getKeys("learner-index", VoidNamespace.INSTANCE)) {
            stream.forEach(keys::add);
        }
        try (var stream = getKeyedStateBackend().getKeys("pending-pairs", VoidNamespace.INSTANCE)) {
            stream.forEach(keys::add);
        }
        for (Object key : keys) {
            setCurrentKey(key);
            int replica = (Integer) key;
            LearnerState state = learnerState.read();
            if (state != null) {
                learners.put(replica, Learner.restore(config, state));
            }
            Pending waiting = pending(replica);
            Iterable<ViewPair> restored = pendingState.get();
            long arrival = 0;
            for (ViewPair pair : restored == null ? List.<ViewPair>of() : restored) {
                waiting.add(sequenceBatching ? pair.seq : arrival++, pair);
            }
        }
    }

    private Pending pending(int replica) {
        return pending.computeIfAbsent(replica, r -> new Pending(config.batchSize(), sequenceBatching));
    }

    private Learner learner(int replica) {
        return learners.computeIfAbsent(replica, r -> Learner.create(config));
    }

    @Override
    public void processElement(StreamRecord<ViewPair> element) throws Exception {
        ViewPair pair = element.getValue();
        int replica = (Integer) getCurrentKey();
        if (pair.channels != config.imageChannels() || pair.height != config.imageSize()
                || pair.width != config.imageSize()) {
            reject(pair, DeadLetters.WRONG_SHAPE, "pair of " + pair.channels + "x" + pair.height + "x" + pair.width
                    + " views does not fit the model's " + config.imageChannels() + "x" + config.imageSize() + "x"
                    + config.imageSize() + " input");
            return;
        }
        if (copyInput) {
            pair = new ViewPair(pair.id, pair.seq, pair.epoch, pair.channels, pair.height, pair.width, pair.view1,
                    pair.view2, pair.label);
        }
        Learner learner = learner(replica);
        Pending waiting = pending(replica);
        int batch = config.batchSize();
        if (sequenceBatching) {
            long next = learner.steps() + learner.skippedSteps();
            long b = pair.seq / batch;
            if (b < next || waiting.pairs.containsKey(pair.seq)) {
                reject(pair, DeadLetters.DUPLICATE_PAIR, "seq " + pair.seq + " of batch " + b
                        + (b < next ? " which is already trained" : " arrived twice"));
                return;
            }
            waiting.add(pair.seq, pair);
            while (waiting.fill.getOrDefault(next, 0) >= batch) {
                List<ViewPair> pairs = new ArrayList<>(batch);
                for (long seq = next * batch; seq < (next + 1) * batch; seq++) {
                    pairs.add(waiting.pairs.remove(seq));
                }
                waiting.fill.remove(next);
                train(replica, learner, pairs);
                next = learner.steps() + learner.skippedSteps();
            }
        } else {
            waiting.add(waiting.pairs.size(), pair);
            if (waiting.pairs.size() == batch) {
                List<ViewPair> pairs = new ArrayList<>(batch);
                for (long i = 0; i < batch; i++) {
                    pairs.add(waiting.pairs.get(i));
                }
                waiting.pairs.clear();
                train(replica, learner, pairs);
            }
        }
    }

    /**
     * The pairs of one replica waiting for their batch: by seq (sequence batching) or by arrival index (arrival
     * batching, indices 0 .. size - 1), and how many of each batch have arrived (sequence batching).
     */
    private static final class Pending {
        final Map<Long, ViewPair> pairs = new HashMap<>();
        final Map<Long, Integer> fill = new HashMap<>();
        private final int batch;
        private final boolean bySeq;

        Pending(int batch, boolean bySeq) {
            this.batch = batch;
            this.bySeq = bySeq;
        }

        /** The waiting pairs by seq, or in arrival order: the order a restore adds them back in. */
        List<ViewPair> inOrder() {
            List<Long> keys = new ArrayList<>(pairs.keySet());
            keys.sort(null);
            List<ViewPair> out = new ArrayList<>(keys.size());
            for (Long key : keys) {
                out.add(pairs.get(key));
            }
            return out;
        }

        /** Keeps a pair under its seq (sequence batching) or its arrival index (arrival batching). */
        void add(long key, ViewPair pair) {
            pairs.put(key, pair);
            if (bySeq) {
                fill.merge(key / batch, 1, Integer::sum);
            }
        }
    }

    private void train(int replica, Learner learner, List<ViewPair> pairs) {
        ViewPair first = pairs.get(0);
        int per = first.view1.length;
        float[] v1 = new float[pairs.size() * per];
        float[] v2 = new float[pairs.size() * per];
        for (int i = 0; i < pairs.size(); i++) {
            System.arraycopy(pairs.get(i).view1, 0, v1, i * per, per);
            System.arraycopy(pairs.get(i).view2, 0, v2, i * per, per);
        }
        StepResult r = learner.step(new ViewBatch(pairs.size(), first.channels, first.height, first.width, v1, v2));
        long now = System.nanoTime();
        Long previous = lastStepEnd.put(replica, now);
        StepMetrics m = new StepMetrics();
        m.replica = replica;
        m.step = r.step();
        m.loss = r.loss();
        m.skipped = r.skipped();
        m.collapse = r.collapseStd();
        m.outputCollapse = r.outputCollapseStd();
        m.collapseReference = r.collapseReference();
        m.lr = r.lr();
        m.stepMillis = r.millis();
        double seconds = previous == null ? r.millis() / 1e3 : (now - previous) / 1e9;
        m.pairsPerSecond = pairs.size() / seconds;
        m.firstSeq = first.seq;
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
        update.fingerprint = config.modelFingerprint();
        update.encoderState = LearnerStateCodec.encode(learner.encoderSnapshot());
        update.loss = m == null ? Double.NaN : m.loss;
        update.collapse = m == null ? Double.NaN : m.collapse;
        update.wallTimeMillis = System.currentTimeMillis();
        output.collect(MODEL_UPDATES, new StreamRecord<>(update));
    }

    private void reject(ViewPair pair, String reason, String detail) {
        deadLetters.inc();
        output.collect(DeadLetters.TAG, new StreamRecord<>(new DeadLetter(STAGE, reason, detail, pair.id, pair.seq)));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // every replica with waiting pairs has a learner (it is created before a pair is kept)
        for (Map.Entry<Integer, Learner> entry : learners.entrySet()) {
            setCurrentKey(entry.getKey());
            learnerState.write(entry.getValue().snapshot());
            Pending waiting = pending.get(entry.getKey());
            pendingState.update(waiting == null ? List.of() : waiting.inOrder());
        }
    }

    /** At the end of a bounded input every replica publishes its final encoder (pairs of an incomplete batch stay unused). */
    @Override
    public void endInput() {
        for (Map.Entry<Integer, Learner> entry : learners.entrySet()) {
            if (entry.getValue().steps() % publishEvery != 0) {
                publish(entry.getKey(), entry.getValue(), latest);
            }
        }
    }

    /** The live learner of a replica held by this subtask (tests and the job's final export). */
    Learner learnerOf(int replica) {
        return learners.get(replica);
    }

    /** The learner-state entries stored in keyed state for a replica (tests). */
    List<String> storedLearnerEntries(int replica) throws Exception {
        setCurrentKey(replica);
        return learnerState.storedEntries();
    }

    @Override
    public void close() throws Exception {
        if (learners != null) {
            for (Learner learner : learners.values()) {
                learner.close();
            }
            learners.clear();
        }
        if (pending != null) {
            pending.clear();
        }
        super.close();
    }
}
