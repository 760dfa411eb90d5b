package io.siamstream.flink;

import io.siamstream.record.ModelUpdate;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.OperatorStateStore;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;

/**
 * The training operator's state, in one place: {@link TrainingOperator} writes it when a checkpoint is taken, and
 * {@code model extract} reads it back out of a savepoint with the State Processor API, so the names and types cannot
 * drift apart. The learners are operator state ({@value #LEARNER}, see {@link OperatorLearnerState}); the rest is
 * keyed by model replica. The waiting pairs ({@value #PENDING_PAIRS}) are the operator's alone.
 */
public final class TrainerState {

    /** The learners: a union list of {@link LearnerChunk}s in operator state. */
    public static final String LEARNER = "learner";
    /** Where earlier versions kept the learner (keyed); still read on restore, and cleared then. */
    public static final String LEARNER_TENSORS = "learner-tensors";
    public static final String LEARNER_INDEX = "learner-index";
    public static final String PENDING_PAIRS = "pending-pairs";
    /** The epoch of the last pair the replica trained on: what its next model update reports. */
    public static final String LAST_EPOCH = "last-epoch";
    /** The metadata (no weights) of the replica's last model update, so its artifact can be rebuilt from state. */
    public static final String LAST_PUBLISHED = "last-published";

    private TrainerState() {}

    public static final ListStateDescriptor<LearnerChunk> LEARNER_DESCRIPTOR =
            new ListStateDescriptor<>(LEARNER, LearnerChunkSerializer.INSTANCE);

    /** The learners of a subtask; a tensor above {@code maxChunkBytes} is cut into chunks. */
    public static OperatorLearnerState learners(OperatorStateStore store, int maxChunkBytes) throws Exception {
        return new OperatorLearnerState(store.getUnionListState(LEARNER_DESCRIPTOR), maxChunkBytes);
    }

    /**
     * The learner of the current key as earlier versions kept it (keyed: tensors and index); a tensor above
     * {@code maxChunkBytes} is cut into chunks.
     */
    public static KeyedLearnerState learner(RuntimeContext context, int maxChunkBytes) {
        return new KeyedLearnerState(
                context.getMapState(new MapStateDescriptor<>(LEARNER_TENSORS, Types.STRING,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                context.getState(new ValueStateDescriptor<>(LEARNER_INDEX,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)),
                maxChunkBytes);
    }

    public static ValueState<Long> lastEpoch(RuntimeContext context) {
        return context.getState(new ValueStateDescriptor<>(LAST_EPOCH, Types.LONG));
    }

    public static ValueState<ModelUpdate> lastPublished(RuntimeContext context) {
        return context.getState(new ValueStateDescriptor<>(LAST_PUBLISHED, TypeInformation.of(ModelUpdate.class)));
    }
}
