package io.siamstream.flink;

import io.siamstream.augment.ViewPolicy;
import io.siamstream.record.DeadLetter;
import io.siamstream.record.ImageRecord;
import io.siamstream.record.View;
import io.siamstream.record.ViewPair;
import java.time.Duration;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Wires the augmentation stage: the image stream feeds two augmentation operators (one per view, each with its own
 * policy and parallelism), their views are keyed by seq and joined into pairs, and the dead letters of all three
 * operators are merged into one stream.
 *
 * <pre>
 * images --+--> augment-view1 (policy 1, parallelism p1) --+
 *          +--> augment-view2 (policy 2, parallelism p2) --+--> keyBy(seq) --> pair-views --> ViewPair
 *               (dead letters of all three operators --> one DeadLetter stream)
 * </pre>
 *
 * Every operator has a fixed uid and name ({@code augment-view1}, {@code augment-view2}, {@code pair-views}), so a
 * savepoint restores with other parallelisms. All records are POJOs with explicit type information: the job runs
 * with {@code pipeline.generic-types=false}.
 */
public final class AugmentationTopology {

    public static final String AUGMENT_VIEW1 = AugmentViewFunction.stageName(0);
    public static final String AUGMENT_VIEW2 = AugmentViewFunction.stageName(1);
    public static final String PAIR_VIEWS = PairViewsOperator.STAGE;

    public static final TypeInformation<View> VIEW_TYPE = TypeInformation.of(View.class);
    public static final TypeInformation<ViewPair> VIEW_PAIR_TYPE = TypeInformation.of(ViewPair.class);

    private AugmentationTopology() {}

    /** The pairs and the merged dead letters of the augmentation stage. */
    public record Result(DataStream<ViewPair> pairs, DataStream<DeadLetter> deadLetters) {}

    /** Keys views by their seq (unique per image occurrence). */
    public static final class BySeq implements KeySelector<View, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(View view) {
            return view.seq;
        }
    }

    /**
     * @param images       the image stream (both view operators read all of it)
     * @param policy1      the policy of view 1 (index 0)
     * @param policy2      the policy of view 2 (index 1); same output size as policy 1
     * @param runSeed      seeds the views with (run seed, record id, epoch, view)
     * @param channels     expected channels of every image
     * @param height       expected height of every image
     * @param width        expected width of every image
     * @param parallelism1 parallelism of augment-view1 (> 0)
     * @param parallelism2 parallelism of augment-view2 (> 0)
     * @param pairTimeout  how long a view waits for its partner before it is dead-lettered
     */
    public static Result build(DataStream<ImageRecord> images, ViewPolicy policy1, ViewPolicy policy2, long runSeed,
                               int channels, int height, int width, int parallelism1, int parallelism2,
                               Duration pairTimeout) {
        if (policy1 == null || policy2 == null) {
            throw new IllegalArgumentException("augment: two view policies are required");
        }
        if (policy1.outputSize() != policy2.outputSize()) {
            throw new IllegalArgumentException("augment: the views of a pair must have one size, but policy "
                    + policy1.name() + " makes " + policy1.outputSize() + " and policy " + policy2.name() + " makes "
                    + policy2.outputSize());
        }
        if (parallelism1 < 1 || parallelism2 < 1) {
            throw new IllegalArgumentException("augment: view parallelisms " + parallelism1 + "/" + parallelism2
                    + " are not allowed; allowed: > 0");
        }
        SingleOutputStreamOperator<View> view1 = images
                .process(new AugmentViewFunction(policy1, 0, runSeed, channels, height, width), VIEW_TYPE)
                .uid(AUGMENT_VIEW1).name(AUGMENT_VIEW1).setParallelism(parallelism1);
        SingleOutputStreamOperator<View> view2 = images
                .process(new AugmentViewFunction(policy2, 1, runSeed, channels, height, width), VIEW_TYPE)
                .uid(AUGMENT_VIEW2).name(AUGMENT_VIEW2).setParallelism(parallelism2);
        SingleOutputStreamOperator<ViewPair> pairs = view1.union(view2)
                .keyBy(new BySeq(), Types.LONG)
                .transform(PAIR_VIEWS, VIEW_PAIR_TYPE, new PairViewsOperator(pairTimeout))
                .uid(PAIR_VIEWS).name(PAIR_VIEWS);
        DataStream<DeadLetter> deadLetters = view1.getSideOutput(DeadLetters.TAG)
                .union(view2.getSideOutput(DeadLetters.TAG), pairs.getSideOutput(DeadLetters.TAG));
        return new Result(pairs, deadLetters);
    }
}
