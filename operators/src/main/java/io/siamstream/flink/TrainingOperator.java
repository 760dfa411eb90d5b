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
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
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
 * <p>State. The waiting pairs live in keyed MapState. The learner is written to keyed state only when a checkpoint
 * is taken ({@link #snapshotState}, which runs before the keyed backend is snapshotted, so it lands in the same
 * checkpoint), one entry per tensor (see {@link KeyedLearnerState}); on restore the learner is rebuilt from it.
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

    private transient MapState<Long, ViewPair> pending;
    private transient MapState<Long, Integer> batchFill;
    private transient ValueState<Long> arrivals;
    private transient KeyedLearnerState learnerState;
    private transient Map<Integer, Learner> learners;
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
        pending = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending-pairs", Types.LONG, TypeInformation.of(ViewPair.class)));
        batchFill = getRuntimeContext().getMapState(new MapStateDescriptor<>("batch-fill", Types.LONG, Types.INT));
        arrivals = getRuntimeContext().getState(new ValueStateDescriptor<>("arrivals", Types.LONG));
        learnerState = new KeyedLearnerState(
                getRuntimeContext().getMapState(new MapStateDescriptor<>("learner-tensors", Types.STRING,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                getRuntimeContext().getState(new ValueStateDescriptor<>("learner-index", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                maxChunkBytes);
        learners = new HashMap<>();
        lastStepEnd = new HashMap<>();
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

    /** Rebuilds the learner of every replica key whose state this subtask restored. */
    private void restoreLearners() throws Exception {
        List<Object> keys = new ArrayList<>();
        try (var stream = getKeyedStateBackend().getKeys("learner-index", VoidNamespace.INSTANCE)) {
            stream.forEach(keys::add);
        }
        for (Object key : keys) {
            setCurrentKey(key);
            LearnerState state = learnerState.read();
            if (state != null) {
                learners.put((Integer) key, Learner.restore(config, state));
            }
        }
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
        Learner learner = learner(replica);
        int batch = config.batchSize();
        if (sequenceBatching) {
            long next = learner.steps() + learner.skippedSteps();
            long b = pair.seq / batch;
            if (b < next || pending.contains(pair.seq)) {
                reject(pair, DeadLetters.DUPLICATE_PAIR, "seq " + pair.seq + " of batch " + b
                        + (b < next ? " which is already trained" : " arrived twice"));
                return;
            }
            pending.put(pair.seq, pair);
            Integer fill = batchFill.get(b);
            batchFill.put(b, fill == null ? 1 : fill + 1);
            while (true) {
                Integer ready = batchFill.get(next);
                if (ready == null || ready < batch) {
                    break;
                }
                List<ViewPair> pairs = new ArrayList<>(batch);
                for (long seq = next * batch; seq < (next + 1) * batch; seq++) {
                    pairs.add(pending.get(seq));
                    pending.remove(seq);
                }
                batchFill.remove(next);
                train(replica, learner, pairs);
                next = learner.steps() + learner.skippedSteps();
            }
        } else {
            Long count = arrivals.value();
            long n = count == null ? 0 : count;
            pending.put(n, pair);
            n++;
            if (n == batch) {
                List<ViewPair> pairs = new ArrayList<>(batch);
                for (long i = 0; i < batch; i++) {
                    pairs.add(pending.get(i));
                }
                pending.clear();
                n = 0;
                arrivals.update(n);
                train(replica, learner, pairs);
            } else {
                arrivals.update(n);
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
        for (Map.Entry<Integer, Learner> entry : learners.entrySet()) {
            setCurrentKey(entry.getKey());
            learnerState.write(entry.getValue().snapshot());
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

    @Override
    public void close() throws Exception {
        if (learners != null) {
            for (Learner learner : learners.values()) {
                learner.close();
            }
            learners.clear();
        }
        super.close();
    }
}
